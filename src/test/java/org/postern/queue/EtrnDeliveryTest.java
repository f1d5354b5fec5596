package org.postern.queue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postern.testing.PosternTestServer;
import org.postern.testing.ScriptedServers;
import org.postern.testing.ScriptedSmtpServer;
import org.postern.testing.SmtpTestClient;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.postern.queue.RelayTesting.TRANSPORTS;
import static org.postern.queue.RelayTesting.awaitLog;
import static org.postern.queue.RelayTesting.manualroute;
import static org.postern.queue.RelayTesting.send;

/** ETRN (RFC 1985) against the real queue: it delivers exactly the named domain's waiting mail. */
@Timeout(90)
class EtrnDeliveryTest {
  @RegisterExtension
  static final ScriptedServers REMOTES = new ScriptedServers();

  @Test
  void etrnDeliversThatDomainOnly() throws Exception {
    ScriptedSmtpServer remote = REMOTES.start(ScriptedSmtpServer.create());
    try (PosternTestServer server = PosternTestServer.create().option("queue_only", "true")
        .option("routers", manualroute("127.0.0.1::" + remote.port()))
        .option("transports", TRANSPORTS).start()) {
      String forOne = send(server, "alice@test.example", "Subject: one\r\n\r\nx\r\n", "bob@one.example");
      String forTwo = send(server, "alice@test.example", "Subject: two\r\n\r\nx\r\n", "carol@two.example");
      // The queue's word that neither goes now; only a queue run (the ETRN) can send them.
      awaitLog(forOne, " no immediate delivery: queued");
      awaitLog(forTwo, " no immediate delivery: queued");
      assertEquals(0, remote.envelopes().size(), "queue_only: nothing goes before the ETRN");
      try (SmtpTestClient c = SmtpTestClient.connect(server.port())) {
        assertEquals(220, c.reply().code());
        assertEquals(250, c.command("EHLO client.example").code());
        SmtpTestClient.Reply none = c.command("ETRN three.example");
        assertEquals(251, none.code(), none.toString());
        SmtpTestClient.Reply started = c.command("ETRN one.example");
        assertEquals(250, started.code(), started.toString());
      }
      awaitLog(forOne, " Completed");
      assertEquals(1, remote.envelopes().size());
      assertEquals(List.of("bob@one.example"), remote.envelopes().get(0).recipients());
      assertEquals(List.of(forTwo), new org.postern.spool.Spool(server.root().resolve("spool")).list(),
          "the other domain's message still waits");
    }
  }
}
