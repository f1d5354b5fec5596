package org.postern.queue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postern.testing.PosternTestServer;
import org.postern.testing.ScriptedServers;
import org.postern.testing.ScriptedSmtpServer;
import org.postern.testing.SmtpTestClient;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.queue.RelayTesting.TRANSPORTS;
import static org.postern.queue.RelayTesting.awaitLog;
import static org.postern.queue.RelayTesting.manualroute;

/**
 * A message received in BDAT chunks and relayed: with BDAT to a next hop that offers CHUNKING (the
 * bytes it gets are the message exactly, Exim's K on both log lines), with DATA to one that does not.
 */
@Timeout(120)
class ChunkingRelayTest {
  /** Dot lines that BDAT carries as they are and DATA must stuff. */
  private static final String MESSAGE = "Subject: relayed in chunks\r\n\r\n.\r\n..two dots\r\n.\r\nend\r\n";
  @RegisterExtension
  static final ScriptedServers REMOTES = new ScriptedServers();

  @Test
  void chunkedArrivalGoesOnWithBdatWhenTheNextHopOffersChunking() throws Exception {
    ScriptedSmtpServer remote = REMOTES.start(ScriptedSmtpServer.create().chunking(true));
    try (PosternTestServer server = relay(remote)) {
      String id = sendInChunks(server);
      assertTrue(awaitLog(id, " <= alice@test.example").contains(" K S="));
      String delivery = awaitLog(id, " => bob@remote.example");
      assertTrue(delivery.contains(" K C=\"250 2.0.0 OK id=scripted1\""), delivery);
      String received = remote.envelopes().get(0).text();
      assertTrue(received.startsWith("Received: "), received);
      assertTrue(received.endsWith("\r\n\r\n" + MESSAGE.substring(MESSAGE.indexOf("\r\n\r\n") + 4)), received);
      assertTrue(received.contains("\r\nSubject: relayed in chunks\r\n"), received);
      assertEquals(1, remote.commands("BDAT").size(), remote.commands().toString());
      assertTrue(remote.commands("DATA").isEmpty());
    }
  }

  @Test
  void chunkedArrivalGoesOnWithDataWhenTheNextHopDoesNotOfferChunking() throws Exception {
    ScriptedSmtpServer remote = REMOTES.start(ScriptedSmtpServer.create());
    try (PosternTestServer server = relay(remote)) {
      String id = sendInChunks(server);
      String delivery = awaitLog(id, " => bob@remote.example");
      assertTrue(!delivery.contains(" K "), delivery);
      String received = remote.envelopes().get(0).text();
      assertTrue(received.endsWith("\r\n\r\n.\r\n..two dots\r\n.\r\nend\r\n"), "un-stuffed by the server: " + received);
      assertEquals(1, remote.commands("DATA").size());
      assertTrue(remote.commands("BDAT").isEmpty());
    }
  }

  private static PosternTestServer relay(ScriptedSmtpServer remote) throws Exception {
    return PosternTestServer.create().option("routers", manualroute("127.0.0.1::" + remote.port()))
        .option("transports", TRANSPORTS).start();
  }

  /** The message in two chunks, the second starting with a dot line; returns its spool id. */
  private static String sendInChunks(PosternTestServer server) throws Exception {
    try (SmtpTestClient c = SmtpTestClient.connect(server.port())) {
      assertEquals(220, c.reply().code());
      assertEquals(250, c.command("EHLO client.example").code());
      assertEquals(250, c.command("MAIL FROM:<alice@test.example>").code());
      assertEquals(250, c.command("RCPT TO:<bob@remote.example>").code());
      int cut = MESSAGE.indexOf("\r\n\r\n") + 4;
      c.sendRaw(("BDAT " + cut + "\r\n" + MESSAGE.substring(0, cut)).getBytes(ISO_8859_1));
      assertEquals(250, c.reply().code());
      c.sendRaw(("BDAT " + (MESSAGE.length() - cut) + " LAST\r\n" + MESSAGE.substring(cut)).getBytes(ISO_8859_1));
      SmtpTestClient.Reply done = c.reply();
      assertEquals(250, done.code(), done.toString());
      c.command("QUIT");
      return done.text().substring(done.text().indexOf("id=") + 3).strip();
    }
  }
}
