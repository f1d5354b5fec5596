package org.postern.delivery.smtp;

import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.postern.bus.DeliveryStatus;
import org.postern.testing.ScriptedSmtpServer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.delivery.smtp.SmtpClientTesting.dataFile;
import static org.postern.delivery.smtp.SmtpClientTesting.deliver;
import static org.postern.delivery.smtp.SmtpClientTesting.host;
import static org.postern.delivery.smtp.SmtpClientTesting.message;
import static org.postern.delivery.smtp.SmtpClientTesting.options;
import static org.postern.delivery.smtp.SmtpClientTesting.started;

/** The smtp transport's data phase: BDAT (RFC 3030) to a server that offers CHUNKING, DATA otherwise. */
@ExtendWith(VertxExtension.class)
@Timeout(60)
class SmtpClientChunkingTest {
  /** Lines that DATA must dot-stuff, a terminator look-alike, and no line end at the very end. */
  private static final String MESSAGE = "Subject: dots\r\n\r\n.\r\n..leading\r\n\r\n.\r\nQUIT\r\nlast line";

  @TempDir
  Path dir;
  private NetClient client;

  @BeforeEach
  void setUp(Vertx vertx) {
    client = vertx.createNetClient();
  }

  @Test
  void bdatToAServerOfferingChunkingSendsTheSpoolFileExactly(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().chunking(true));
    Path data = dataFile(dir, "m", MESSAGE);
    MessageResult r = deliver(vertx, client, host(server), options(dir, "command_timeout: 5s\n"),
        message(data, "a@x.example", "b@x.example"));
    assertEquals(List.of(DeliveryStatus.DELIVERED, DeliveryStatus.DELIVERED),
        r.recipients().stream().map(RecipientResult::status).toList());
    assertTrue(r.chunking(), "K: the message went with BDAT");
    assertEquals(List.of("BDAT " + Files.size(data) + " LAST"), server.commands("BDAT").stream()
        .map(ScriptedSmtpServer.Command::line).toList());
    assertTrue(server.commands("DATA").isEmpty(), "no DATA: " + server.commands());
    assertArrayEquals(Files.readAllBytes(data), server.envelopes().get(0).data(), "the bytes, not dot-stuffed");
  }

  @Test
  void dataToAServerWithoutChunking(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create());
    Path data = dataFile(dir, "m", MESSAGE);
    MessageResult r = deliver(vertx, client, host(server), options(dir, "command_timeout: 5s\n"),
        message(data, "a@x.example"));
    assertEquals(DeliveryStatus.DELIVERED, r.recipients().get(0).status());
    assertFalse(r.chunking());
    assertTrue(server.commands("BDAT").isEmpty(), server.commands().toString());
    assertEquals(1, server.commands("DATA").size());
    // The scripted server un-stuffs DATA; the final line got its CRLF.
    assertEquals(MESSAGE + "\r\n", server.envelopes().get(0).text());
  }

  @Test
  void hostsTryChunkingLimitsBdatToTheListedHosts(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().chunking(true));
    Path data = dataFile(dir, "m", MESSAGE);
    MessageResult r = deliver(vertx, client, host(server), options(dir, "hosts_try_chunking: 192.0.2.1\n"),
        message(data, "a@x.example"));
    assertEquals(DeliveryStatus.DELIVERED, r.recipients().get(0).status());
    assertFalse(r.chunking());
    assertTrue(server.commands("BDAT").isEmpty(), "127.0.0.1 is not in hosts_try_chunking: " + server.commands());
    assertEquals(1, server.commands("DATA").size());
  }

  @Test
  void hostsTryChunkingDefaultsToEveryHostAndABadListIsRefused() throws Exception {
    assertTrue(options(dir, "port: 25\n").hostsTryChunking().matches("192.0.2.1", null), "Exim's default: *");
    org.postern.config.ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(
        org.postern.config.ConfigException.class, () -> options(dir, "hosts_try_chunking: 300.1.2.3/99\n"));
    assertTrue(e.getMessage().contains("hosts_try_chunking"), e.getMessage());
  }

  @Test
  void aRefusedBdatFailsOrDefersTheRecipients(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().chunking(true)
        .reply(ScriptedSmtpServer.Step.DOT, 552));
    MessageResult r = deliver(vertx, client, host(server), options(dir, "command_timeout: 5s\n"),
        message(dataFile(dir, "m", MESSAGE), "a@x.example"));
    RecipientResult a = r.recipients().get(0);
    assertEquals(DeliveryStatus.FAILED, a.status());
    assertEquals(552, a.code());
    assertTrue(a.text().startsWith("SMTP error from remote mail server after BDAT: 552"), a.text());
  }
}
