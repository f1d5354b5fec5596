package org.postern.queue;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postern.bus.Addresses;
import org.postern.bus.DeliveryWaiting;
import org.postern.testing.Await;
import org.postern.testing.MainLogFile;
import org.postern.testing.PosternTestServer;
import org.postern.testing.PublishedEvents;
import org.postern.testing.ScriptedServers;
import org.postern.testing.ScriptedSmtpServer;
import org.postern.testing.TestPki;

import java.nio.file.Files;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.queue.RelayTesting.TRANSPORTS;
import static org.postern.queue.RelayTesting.assertSpoolEmpty;
import static org.postern.queue.RelayTesting.awaitLog;
import static org.postern.queue.RelayTesting.awaitTrue;
import static org.postern.queue.RelayTesting.manualroute;
import static org.postern.queue.RelayTesting.send;

/** Relaying through manualroute: to a scripted server (clear and STARTTLS) and to a second real Postern. */
@Timeout(90)
class RelayDeliveryTest {
  private static final String CONTENT = "Subject: relay\r\nMessage-ID: <relay@client.example>\r\n\r\nHello remote.\r\n";
  @RegisterExtension
  static final ScriptedServers REMOTES = new ScriptedServers();

  @Test
  void relaysThroughManualrouteWithTheSameContent() throws Exception {
    ScriptedSmtpServer remote = REMOTES.start(ScriptedSmtpServer.create());
    try (PosternTestServer server = PosternTestServer.create()
        .option("routers", manualroute("127.0.0.1::" + remote.port()))
        .option("transports", TRANSPORTS).start()) {
      String id = send(server, "alice@test.example", CONTENT, "bob@remote.example");
      String line = awaitLog(id, " => bob@remote.example");
      awaitLog(id, " Completed");
      assertEquals(" => bob@remote.example R=smarthost T=remote_smtp H=[127.0.0.1]:" + remote.port()
          + " C=\"250 OK id=scripted1\"", line.substring(line.indexOf(" =>")).replace("250 2.0.0", "250"));
      assertEquals(1, remote.envelopes().size());
      ScriptedSmtpServer.Envelope e = remote.envelopes().get(0);
      assertEquals("alice@test.example", e.sender());
      assertEquals(List.of("bob@remote.example"), e.recipients());
      assertTrue(e.text().startsWith("Received: "), e.text());
      assertTrue(e.text().endsWith("\r\n" + CONTENT), e.text());
      assertSpoolEmpty(server);
    }
  }

  @Test
  void aCommandLineDeliverySaysQuitBeforeItEnds() throws Exception {
    ScriptedSmtpServer remote = REMOTES.start(ScriptedSmtpServer.create());
    try (PosternTestServer server = PosternTestServer.create().option("queue_only", "true")
        .option("routers", manualroute("127.0.0.1::" + remote.port()))
        .option("transports", TRANSPORTS).start()) {
      String queued = send(server, "alice@test.example", CONTENT, "bob@remote.example");
      String forced = send(server, "alice@test.example", CONTENT, "carol@remote.example");
      // -M and -q run a queue runner in their own process, and end it when the run is done.
      org.postern.testing.ChildPostern.Result m = org.postern.testing.ChildPostern.run(server.root(),
          server.root().resolve("conf/postern.yaml"), "", "-M", queued);
      assertEquals(0, m.exit(), m::toString);
      awaitTrue("-M's connection said QUIT", () -> remote.commands("QUIT").size() == 1);
      org.postern.testing.ChildPostern.Result q = org.postern.testing.ChildPostern.run(server.root(),
          server.root().resolve("conf/postern.yaml"), "", "-qf");
      assertEquals(0, q.exit(), q::toString);
      awaitTrue("-qf's connection said QUIT", () -> remote.commands("QUIT").size() == 2);
      assertEquals(2, remote.envelopes().size());
      assertEquals(2, remote.connections());
      assertTrue(remote.envelopes().get(1).recipients().contains("carol@remote.example"), forced);
      assertSpoolEmpty(server);
    }
  }

  @Test
  void smtpsToASmarthostOnItsSubmissionsPortAndFromTheConfiguredInterface() throws Exception {
    ScriptedSmtpServer remote = REMOTES.start(ScriptedSmtpServer.create().implicitTls(TestPki.shared().server()));
    try (PosternTestServer server = PosternTestServer.create()
        .option("routers", manualroute("127.0.0.1::" + remote.port()))
        .option("transports", "{ remote_smtp: { driver: smtp, protocol: smtps, interface: 127.0.0.2, "
            + "command_timeout: 5s } }")
        .start()) {
      String id = send(server, "alice@test.example", CONTENT, "bob@remote.example");
      String line = awaitLog(id, " => bob@remote.example");
      assertTrue(line.contains(" X=TLS1."), line);
      assertTrue(remote.envelopes().get(0).tls());
      assertEquals(List.of("127.0.0.2"), remote.peerAddresses());
      assertSpoolEmpty(server);
    }
  }

  @Test
  void startTlsIsLoggedWithXAndCv() throws Exception {
    ScriptedSmtpServer remote = REMOTES.start(ScriptedSmtpServer.create().startTls(TestPki.shared().server()));
    try (PosternTestServer server = PosternTestServer.create()
        .option("routers", manualroute("127.0.0.1::" + remote.port()))
        .option("transports", "{ remote_smtp: { driver: smtp, hosts_require_tls: \"*\", command_timeout: 5s } }")
        .start()) {
      String id = send(server, "alice@test.example", CONTENT, "bob@remote.example");
      String line = awaitLog(id, " => bob@remote.example");
      assertTrue(line.contains(" X=TLS1."), line);
      assertTrue(line.contains(" CV=no"), line);
      assertTrue(line.contains("R=smarthost T=remote_smtp H=[127.0.0.1]:" + remote.port() + " X="), line);
      assertTrue(remote.envelopes().get(0).tls());
      awaitLog(id, " Completed");
    }
  }

  @Test
  void relaysToASecondPosternIntoItsMaildir() throws Exception {
    try (PosternTestServer far = PosternTestServer.create()
        .option("primary_hostname", "mx.remote.example")
        .option("domainlist", "{ local_domains: \"remote.example\" }")
        .users("bob:{PLAIN}bob-secret").start();
         PosternTestServer near = PosternTestServer.create()
             .option("routers", manualroute("127.0.0.1::" + far.port()))
             .option("transports", TRANSPORTS).start()) {
      String id = send(near, "alice@test.example", CONTENT, "bob@remote.example");
      awaitLog(id, " => bob@remote.example R=smarthost T=remote_smtp H=[127.0.0.1]:" + far.port());
      List<?> files = far.awaitMailbox("bob", 1, 20_000);
      assertEquals(1, files.size());
      String stored = Files.readString(far.mailbox("bob").get(0));
      assertTrue(stored.startsWith("Return-Path: <alice@test.example>\r\n"), stored);
      assertTrue(stored.endsWith("\r\n" + CONTENT), stored);
      // Two Received: headers, the far Postern's on top of the near one's.
      assertEquals(2, stored.split("\r\nReceived: ", -1).length - 1, stored);
      assertSpoolEmpty(near);
    }
  }

  @Test
  void withoutRoutersRemoteRecipientsStayQueued() throws Exception {
    try (PosternTestServer server = PosternTestServer.create().start()) {
      String id = send(server, "alice@test.example", CONTENT, "bob@remote.example");
      awaitLog(id, " == bob@remote.example R=none: remote delivery is not configured");
      awaitTrue("spool files", () -> {
        try {
          return server.spoolFiles().contains(id + "-H");
        } catch (Exception e) {
          return false;
        }
      });
    }
  }

  private static org.postern.testing.PosternTestServer queueOnly(ScriptedSmtpServer remote, String transports,
                                                                 int parallel) throws Exception {
    return PosternTestServer.create()
        .option("routers", manualroute("127.0.0.1::" + remote.port()))
        .option("transports", transports).option("queue_only", "true")
        .option("remote_max_parallel", String.valueOf(parallel)).start();
  }

  private static int flush(PosternTestServer server) throws Exception {
    return RelayTesting.await(server.vertx().eventBus().<io.vertx.core.json.JsonObject>request(
        org.postern.bus.Addresses.QUEUE_FLUSH, new io.vertx.core.json.JsonObject())).body().getInteger("started");
  }

  @Test
  void oneConnectionCarriesConsecutiveMessagesToTheSameHost() throws Exception {
    ScriptedSmtpServer remote = REMOTES.start(ScriptedSmtpServer.create());
    try (PosternTestServer server = queueOnly(remote, TRANSPORTS, 1)) {
      List<String> ids = List.of(send(server, "alice@test.example", CONTENT, "a@remote.example"),
          send(server, "alice@test.example", CONTENT, "b@remote.example"),
          send(server, "alice@test.example", CONTENT, "c@remote.example"));
      assertEquals(3, flush(server));
      for (String id : ids) {
        awaitLog(id, " Completed");
      }
      assertEquals(1, remote.connections());
      assertEquals(java.util.Map.of(1, 3), remote.messagesPerConnection());
    }
  }

  @Test
  void remoteMaxParallelBoundsConcurrentDeliveries() throws Exception {
    ScriptedSmtpServer remote = REMOTES.start(ScriptedSmtpServer.create().hangAtDotFor("hang@remote.example"));
    try (PosternTestServer server = queueOnly(remote,
        "{ remote_smtp: { driver: smtp, command_timeout: 5s, final_timeout: 3s } }", 2)) {
      List<String> ids = List.of(send(server, "alice@test.example", CONTENT, "hang@remote.example"),
          send(server, "alice@test.example", CONTENT, "hang@remote.example"),
          send(server, "alice@test.example", CONTENT, "hang@remote.example"));
      try (PublishedEvents waiting = PublishedEvents.on(server.vertx(), Addresses.DELIVERY_WAITING)) {
        assertEquals(3, flush(server));
        awaitTrue("two deliveries waiting at the dot", () -> remote.commands("DATA").size() == 2);
        // The two hang at the dot for final_timeout (3 s): until then the third holds no permit.
        JsonObject third = waiting.awaitNth(1, 10_000);
        assertEquals(2, remote.connections(), "the third waits for a free delivery slot");
        assertEquals(new DeliveryWaiting(third.getString("id"), "remote_smtp", 2), DeliveryWaiting.fromJson(third));
        assertTrue(ids.contains(third.getString("id")), third::encode);
        assertEquals(1, waiting.seen().size(), "only the third waits: " + waiting.seen());
      }
      // The two time out at the dot (deferred), and the third gets its turn.
      awaitTrue("the third delivery", () -> remote.commands("DATA").size() == 3);
      for (String id : ids) {
        awaitLog(id, " == hang@remote.example");
      }
    }
  }

  @Test
  void aQueueRunLocksOnlyAWindowOfMessagesAtOnce() throws Exception {
    ScriptedSmtpServer remote = REMOTES.start(ScriptedSmtpServer.create().hangAtDotFor("hang@remote.example"));
    try (PosternTestServer server = queueOnly(remote,
        "{ remote_smtp: { driver: smtp, command_timeout: 5s, final_timeout: 20s } }", 1)) {
      List<String> ids = new java.util.ArrayList<>();
      for (int i = 0; i < 40; i++) {
        ids.add(send(server, "alice@test.example", CONTENT, "hang@remote.example"));
      }
      assertEquals(40, flush(server));
      awaitTrue("one delivery waiting at the dot", () -> remote.commands("DATA").size() == 1);
      // Locked in this JVM (by the queue): tryLock is refused. The free ones are released at once, so
      // the count settles within the window while the one delivery hangs (final_timeout 20 s).
      org.postern.spool.Spool spool = new org.postern.spool.Spool(server.root().resolve("spool"));
      int locked = Await.value(10_000, () -> {
        int n = 0;
        for (String id : ids) {
          java.util.Optional<org.postern.spool.MessageLock> probe = org.postern.spool.MessageLock.tryLock(spool, id);
          if (probe.isPresent()) {
            probe.get().close();
          } else {
            n++;
          }
        }
        return n;
      }, n -> n >= 1 && n <= 16);
      assertTrue(locked >= 1 && locked <= 16, "messages locked while one delivery hangs: " + locked);
    }
  }

  @Test
  void theClientAuthenticatorIsLoggedAndItsSecretIsNot() throws Exception {
    String secret = "relay-secret-" + System.nanoTime();
    ScriptedSmtpServer remote = REMOTES.start(ScriptedSmtpServer.create().auth("relayuser", secret, "PLAIN"));
    try (PosternTestServer server = PosternTestServer.create()
        .option("routers", manualroute("127.0.0.1::" + remote.port()))
        .option("authenticators", "{ relay_plain: { driver: plaintext, public_name: PLAIN, client_send: \"^relayuser^"
            + secret + "\" } }")
        .option("transports", "{ remote_smtp: { driver: smtp, hosts_require_auth: \"*\", command_timeout: 5s } }")
        .start()) {
      String id = send(server, "alice@test.example", CONTENT, "bob@remote.example");
      String line = awaitLog(id, " => bob@remote.example");
      assertTrue(line.contains(" A=relay_plain C=\""), line);
      assertEquals("relayuser", remote.envelopes().get(0).authId());
      awaitLog(id, " Completed");
      assertTrue(java.nio.file.Files.readString(MainLogFile.ofTestJvm().file()).indexOf(secret) < 0, "secret in the main log");
    }
  }
}
