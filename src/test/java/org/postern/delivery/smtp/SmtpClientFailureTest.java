package org.postern.delivery.smtp;

import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.postern.config.SmtpTransportOptions;
import org.postern.delivery.smtp.RecipientResult.Status;
import org.postern.testing.ScriptedSmtpServer.Misbehaviour;
import org.postern.testing.ScriptedSmtpServer.Step;
import org.postern.testing.ScriptedSmtpServer;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.delivery.smtp.SmtpClientTesting.await;
import static org.postern.delivery.smtp.SmtpClientTesting.dataFile;
import static org.postern.delivery.smtp.SmtpClientTesting.host;
import static org.postern.delivery.smtp.SmtpClientTesting.message;
import static org.postern.delivery.smtp.SmtpClientTesting.openFailure;
import static org.postern.delivery.smtp.SmtpClientTesting.options;
import static org.postern.delivery.smtp.SmtpClientTesting.started;

/**
 * Remote servers that hang, close, reset or talk nonsense: every case ends in a host deferral with
 * Exim's wording, within the configured timeouts, and no future is left pending.
 */
@ExtendWith(VertxExtension.class)
@Timeout(60)
class SmtpClientFailureTest {
  private static final String BODY = "Subject: t\r\n\r\nbody\r\n";
  private static final String MAIL = "MAIL FROM:<sender@client.test.example> SIZE=" + (BODY.length() + 1024);

  @TempDir
  Path dir;
  private NetClient client;
  private SmtpTransportOptions options;

  @BeforeEach
  void setUp(Vertx vertx) throws Exception {
    client = vertx.createNetClient();
    options = options(dir, "command_timeout: 300ms\ndata_timeout: 300ms\nfinal_timeout: 300ms\n");
  }

  private ScriptedSmtpServer server(Vertx vertx, Step step, Misbehaviour m) throws Exception {
    return started(vertx, ScriptedSmtpServer.create().at(step, m));
  }

  /** Opens (which must succeed), sends one message to a@ and b@, and checks the connection is then dead. */
  private MessageResult sendBroken(Vertx vertx, ScriptedSmtpServer server) throws Exception {
    SmtpClientConnection c = await(SmtpClientConnection.open(vertx, client, host(server), options));
    MessageResult r = await(c.send(message(dataFile(dir, "m", BODY), "a@x.example", "b@x.example")));
    assertFalse(c.usable());
    MessageResult again = await(c.send(message(dataFile(dir, "m2", BODY), "c@x.example")));
    assertEquals(r.hostProblem(), again.hostProblem(), "a dead connection defers at once with the same reason");
    assertEquals(Status.DEFERRED, again.recipients().get(0).status());
    await(c.quit());
    return r;
  }

  private static void assertAllDeferred(MessageResult r, String reason) {
    assertEquals(reason, r.hostProblem());
    for (RecipientResult rr : r.recipients()) {
      assertEquals(Status.DEFERRED, rr.status(), rr.toString());
      assertEquals(reason, rr.text());
      assertEquals(0, rr.code());
    }
  }

  @Test
  void connectionRefused(Vertx vertx) throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    assertEquals("Connection refused",
        openFailure(vertx, client, new RemoteHost("mx.test.example", "127.0.0.1", port), options));
  }

  @Test
  void hangAtBanner(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = server(vertx, Step.BANNER, Misbehaviour.HANG);
    assertEquals("SMTP timeout after initial connection", openFailure(vertx, client, host(server), options));
  }

  @Test
  void hangAtEhlo(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = server(vertx, Step.EHLO, Misbehaviour.HANG);
    assertEquals("SMTP timeout after EHLO client.test.example", openFailure(vertx, client, host(server), options));
  }

  @Test
  void refusingBannerIsAHostDeferral(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().reply(Step.BANNER, 554));
    assertEquals("SMTP error from remote mail server after initial connection: 554 scripted.test.example ESMTP",
        openFailure(vertx, client, host(server), options));
  }

  @Test
  void closeAtBanner(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = server(vertx, Step.BANNER, Misbehaviour.CLOSE);
    assertEquals("Remote host closed connection in response to initial connection",
        openFailure(vertx, client, host(server), options));
  }

  @Test
  void garbageBanner(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = server(vertx, Step.BANNER, Misbehaviour.GARBAGE);
    assertEquals("Malformed SMTP reply in response to initial connection: \"this is no SMTP reply\"",
        openFailure(vertx, client, host(server), options));
  }

  @Test
  void hangAtMail(Vertx vertx) throws Exception {
    assertAllDeferred(sendBroken(vertx, server(vertx, Step.MAIL, Misbehaviour.HANG)), "SMTP timeout after " + MAIL);
  }

  @Test
  void hangAtRcpt(Vertx vertx) throws Exception {
    assertAllDeferred(sendBroken(vertx, server(vertx, Step.RCPT, Misbehaviour.HANG)),
        "SMTP timeout after RCPT TO:<a@x.example>");
  }

  @Test
  void hangAtData(Vertx vertx) throws Exception {
    assertAllDeferred(sendBroken(vertx, server(vertx, Step.DATA, Misbehaviour.HANG)), "SMTP timeout after DATA");
  }

  @Test
  void hangAfterTheDot(Vertx vertx) throws Exception {
    assertAllDeferred(sendBroken(vertx, server(vertx, Step.DOT, Misbehaviour.HANG)),
        "SMTP timeout after end of data");
  }

  @Test
  void hangAtRsetAfterAFailedTransaction(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().rcpt("bad@x.example", 550)
        .at(Step.RSET, Misbehaviour.HANG));
    SmtpClientConnection c = await(SmtpClientConnection.open(vertx, client, host(server), options));
    assertEquals(Status.FAILED, await(c.send(message(dataFile(dir, "m1", BODY), "bad@x.example")))
        .recipients().get(0).status());
    assertAllDeferred(await(c.send(message(dataFile(dir, "m2", BODY), "a@x.example"))), "SMTP timeout after RSET");
    await(c.quit());
  }

  @Test
  void closeAtMail(Vertx vertx) throws Exception {
    assertAllDeferred(sendBroken(vertx, server(vertx, Step.MAIL, Misbehaviour.CLOSE)),
        "Remote host closed connection in response to " + MAIL);
  }

  @Test
  void closeAtRcpt(Vertx vertx) throws Exception {
    assertAllDeferred(sendBroken(vertx, server(vertx, Step.RCPT, Misbehaviour.CLOSE)),
        "Remote host closed connection in response to RCPT TO:<a@x.example>");
  }

  @Test
  void closeAtData(Vertx vertx) throws Exception {
    assertAllDeferred(sendBroken(vertx, server(vertx, Step.DATA, Misbehaviour.CLOSE)),
        "Remote host closed connection in response to DATA");
  }

  @Test
  void closeAfterTheDot(Vertx vertx) throws Exception {
    assertAllDeferred(sendBroken(vertx, server(vertx, Step.DOT, Misbehaviour.CLOSE)),
        "Remote host closed connection in response to end of data");
  }

  @Test
  void resetMidData(Vertx vertx) throws Exception {
    MessageResult r = sendBroken(vertx, server(vertx, Step.DATA_CONTENT, Misbehaviour.RESET));
    assertTrue(r.hostProblem().startsWith("Remote host closed connection"), r.hostProblem());
    assertTrue(r.with(Status.DEFERRED).size() == 2, r.toString());
  }

  @Test
  void resetMidDataOfALargeMessage(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = server(vertx, Step.DATA_CONTENT, Misbehaviour.RESET);
    Path big = dataFile(dir, "big", "x".repeat(1000) + "\r\n".repeat(1) + ("y".repeat(998) + "\r\n").repeat(4000));
    SmtpClientConnection c = await(SmtpClientConnection.open(vertx, client, host(server), options));
    MessageResult r = await(c.send(message(big, "a@x.example")));
    await(c.quit());
    assertEquals(Status.DEFERRED, r.recipients().get(0).status());
    assertTrue(r.hostProblem().startsWith("Remote host closed connection"), r.hostProblem());
  }

  @Test
  void garbageAtRcpt(Vertx vertx) throws Exception {
    assertAllDeferred(sendBroken(vertx, server(vertx, Step.RCPT, Misbehaviour.GARBAGE)),
        "Malformed SMTP reply in response to RCPT TO:<a@x.example>: \"this is no SMTP reply\"");
  }

  @Test
  void knownRecipientResultsSurviveALaterConnectionProblem(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().rcpt("bad@x.example", 550)
        .at(Step.DOT, Misbehaviour.CLOSE));
    SmtpClientConnection c = await(SmtpClientConnection.open(vertx, client, host(server), options));
    MessageResult r = await(c.send(message(dataFile(dir, "m", BODY), "bad@x.example", "good@x.example")));
    await(c.quit());
    assertEquals(List.of(Status.FAILED, Status.DEFERRED), r.recipients().stream().map(RecipientResult::status)
        .toList());
    assertEquals("Remote host closed connection in response to end of data", r.recipients().get(1).text());
  }

  @Test
  void quitOnAHangingServerStillCompletes(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = server(vertx, Step.QUIT, Misbehaviour.HANG);
    SmtpClientConnection c = await(SmtpClientConnection.open(vertx, client, host(server), options));
    MessageResult r = await(c.send(message(dataFile(dir, "m", BODY), "a@x.example")));
    assertNull(r.hostProblem());
    await(c.quit());
  }

  @Test
  void serverThatStopsReadingMidDataHitsDataTimeout(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = server(vertx, Step.DATA_CONTENT, Misbehaviour.STALL);
    // Far more than the loopback socket buffers hold, so the client's writes must back up.
    Path big = dir.resolve("big-D");
    try (var out = java.nio.file.Files.newOutputStream(big)) {
      byte[] line = ("z".repeat(998) + "\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
      for (int i = 0; i < 40_000; i++) {
        out.write(line);
      }
    }
    SmtpClientConnection c = await(SmtpClientConnection.open(vertx, client, host(server), options));
    MessageResult r = await(c.send(message(big, "a@x.example")));
    await(c.quit());
    assertAllDeferred(r, "SMTP timeout after sending data block");
  }

  @Test
  void connectTimeout(Vertx vertx) throws Exception {
    // A listener whose accept queue is full drops further SYNs, so connecting hangs.
    try (ServerSocket full = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      List<java.net.Socket> fillers = new java.util.ArrayList<>();
      try {
        for (int i = 0; i < 4; i++) {
          java.net.Socket s = new java.net.Socket();
          try {
            s.connect(full.getLocalSocketAddress(), 200);
            fillers.add(s);
          } catch (java.io.IOException e) {
            s.close();
            break;
          }
        }
        SmtpTransportOptions o = options(dir, "connect_timeout: 300ms\n");
        assertEquals("Connection timed out", openFailure(vertx, client,
            new RemoteHost("mx.test.example", "127.0.0.1", full.getLocalPort()), o));
      } finally {
        for (java.net.Socket s : fillers) {
          s.close();
        }
      }
    }
  }
}
