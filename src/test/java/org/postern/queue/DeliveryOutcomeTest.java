package org.postern.queue;

import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postern.bus.Addresses;
import org.postern.testing.Await;
import org.postern.testing.PosternTestServer;
import org.postern.testing.ScriptedServers;
import org.postern.testing.ScriptedSmtpServer;
import org.postern.testing.SettableClock;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.queue.RelayTesting.TRANSPORTS;
import static org.postern.queue.RelayTesting.assertSpoolEmpty;
import static org.postern.queue.RelayTesting.awaitLog;
import static org.postern.queue.RelayTesting.awaitTrue;
import static org.postern.queue.RelayTesting.manualroute;
import static org.postern.queue.RelayTesting.report;
import static org.postern.queue.RelayTesting.send;
import static org.postern.queue.RelayTesting.states;

/**
 * What the queue does with the smtp transport's answers: deferral and retry records, permanent
 * failure and bounce (none for {@code <>}), mixed results, retry exhaustion, mail loops, flush.
 */
@Timeout(120)
class DeliveryOutcomeTest {
  private static final String CONTENT = "Subject: outcome\r\n\r\nHello.\r\n";
  @RegisterExtension
  static final ScriptedServers REMOTES = new ScriptedServers();

  private static PosternTestServer relay(ScriptedSmtpServer remote, String... options) throws Exception {
    return relayConfig(remote, options).start();
  }

  /** A relay whose queue reckons message ages on {@code clock}: a test moves time on instead of sleeping. */
  private static PosternTestServer relay(SettableClock clock, ScriptedSmtpServer remote, String... options)
      throws Exception {
    return relayConfig(remote, options).replace(QueueVerticle.class.getName(), () -> new QueueVerticle(clock)).start();
  }

  private static PosternTestServer relayConfig(ScriptedSmtpServer remote, String... options) throws Exception {
    PosternTestServer s = PosternTestServer.create()
        .option("routers", manualroute("127.0.0.1::" + remote.port())).option("transports", TRANSPORTS);
    for (int i = 0; i < options.length; i += 2) {
      s.option(options[i], options[i + 1]);
    }
    return s;
  }

  private static JsonObject flush(PosternTestServer server, JsonObject body) throws Exception {
    Message<JsonObject> reply = RelayTesting.await(
        server.vertx().eventBus().<JsonObject>request(Addresses.QUEUE_FLUSH, body));
    return reply.body();
  }

  private static boolean frozenOnSpool(PosternTestServer server, String id) {
    try {
      return RelayTesting.envelope(server, id).getBoolean("frozen", false);
    } catch (IOException | RuntimeException e) {
      // Not there, or caught half-renamed: not yet.
      return false;
    }
  }

  private static boolean retryRecordExists(PosternTestServer server, String key) throws Exception {
    Path dir = server.root().resolve("spool/db/retry");
    if (!Files.isDirectory(dir)) {
      return false;
    }
    try (var files = Files.list(dir)) {
      for (Path f : files.toList()) {
        if (Files.readString(f).contains("\"key\":\"" + key + "\"")) {
          return true;
        }
      }
    }
    return false;
  }

  @Test
  void aTemporaryRefusalStaysQueuedUntilItsRetryTimeUnlessForced() throws Exception {
    ScriptedSmtpServer remote = REMOTES.start(ScriptedSmtpServer.create().rcpt("bob@remote.example", 451));
    try (PosternTestServer server = relay(remote)) {
      String id = send(server, "alice@test.example", CONTENT, "bob@remote.example");
      String line = awaitLog(id, " == bob@remote.example");
      assertTrue(line.contains(" R=smarthost T=remote_smtp H=[127.0.0.1]:" + remote.port() + " defer: "
          + "SMTP error from remote mail server after RCPT TO:<bob@remote.example>: 451 4.2.0"), line);
      assertEquals(List.of("bob@remote.example=pending"), states(server, id));
      assertTrue(retryRecordExists(server, "R:bob@remote.example"));
      assertEquals(1, remote.commands("RCPT").size());

      assertEquals(1, RelayTesting.runUntilStarted(server, new JsonObject()).getInteger("started"));
      awaitLog(id, " == bob@remote.example: retry time not reached");
      assertEquals(1, remote.commands("RCPT").size());

      assertEquals(1, RelayTesting.runUntilStarted(server, new JsonObject().put("force", true)).getInteger("started"));
      awaitTrue("a second RCPT", () -> remote.commands("RCPT").size() == 2);
      assertEquals(List.of("bob@remote.example=pending"), states(server, id));
    }
  }

  @Test
  void aMessageStillWaitingPastDelayWarningWarnsItsSenderOnce() throws Exception {
    ScriptedSmtpServer remote = REMOTES.start(ScriptedSmtpServer.create().rcpt("bob@remote.example", 451));
    SettableClock clock = new SettableClock(Instant.now());
    try (PosternTestServer server = relay(clock, remote, "delay_warning", "\"1s:1h\"")) {
      String id = send(server, "alice@test.example", CONTENT, "bob@remote.example");
      awaitLog(id, " == bob@remote.example");
      // A waited-for run has finished an attempt: a warning due then would have been logged (R=<id>) by now.
      RelayTesting.runUntilStarted(server, new JsonObject().put("force", true).put("wait", true));
      assertTrue(RelayTesting.mainlog("R=" + id).isEmpty(), "no warning spooled before the first delay_warning time");
      assertTrue(server.mailbox("alice").isEmpty(), "no warning before the first delay_warning time");
      // Past the first delay_warning time from the message's wall-clock arrival, however slowly the server started.
      clock.set(Instant.now().plusSeconds(2));
      assertEquals(1, flush(server, new JsonObject().put("force", true)).getInteger("started"));
      List<Path> warnings = server.awaitMailbox("alice", 1, 20_000);
      RelayTesting.Report r = report(warnings.get(0));
      assertTrue(r.subject().startsWith("Warning: message " + id + " delayed"), r.subject());
      assertTrue(r.status().contains("Final-Recipient: rfc822; bob@remote.example"), r.status());
      assertTrue(r.status().contains("Action: delayed"), r.status());
      assertTrue(r.status().contains("Status: 4."), r.status());
      assertTrue(r.headers().contains("Subject: outcome"), r.headers());
      assertEquals(1, RelayTesting.envelope(server, id).getInteger("warnings_sent"));
      // The next warning is an hour away: another run sends none, and the message still waits.
      assertEquals(1, flush(server, new JsonObject().put("force", true).put("wait", true)).getInteger("started"));
      assertEquals(1, RelayTesting.mainlog("R=" + id).size(), "one warning spooled");
      assertEquals(1, server.mailbox("alice").size());
      assertEquals(List.of("bob@remote.example=pending"), states(server, id));
    }
  }

  @Test
  void aPermanentRefusalBouncesToTheSender() throws Exception {
    ScriptedSmtpServer remote = REMOTES.start(ScriptedSmtpServer.create().rcpt("bob@remote.example", 550));
    try (PosternTestServer server = relay(remote)) {
      String id = send(server, "alice@test.example", CONTENT, "bob@remote.example");
      String line = awaitLog(id, " ** bob@remote.example");
      assertTrue(line.contains(" R=smarthost T=remote_smtp H=[127.0.0.1]:" + remote.port() + ": SMTP error from "
          + "remote mail server after RCPT TO:<bob@remote.example>: 550 5.1.1"), line);
      List<Path> bounce = server.awaitMailbox("alice", 1, 20_000);
      assertEquals(1, bounce.size());
      RelayTesting.Report r = report(bounce.get(0));
      assertTrue(r.contentType().startsWith("multipart/report"), r.contentType());
      assertTrue(r.contentType().contains("report-type=delivery-status"), r.contentType());
      assertTrue(r.status().contains("Final-Recipient: rfc822; bob@remote.example"), r.status());
      assertTrue(r.status().contains("Action: failed"), r.status());
      assertTrue(r.status().contains("Status: 5.1.1"), r.status());
      assertTrue(r.headers().contains("Subject: outcome"), r.headers());
      String bounced = Files.readString(bounce.get(0));
      assertTrue(bounced.startsWith("Return-Path: <>\r\n"), bounced);
      assertSpoolEmpty(server);
      assertFalse(retryRecordExists(server, "R:bob@remote.example"));
    }
  }

  @Test
  void aFailingBounceIsFrozenNeverBounced() throws Exception {
    ScriptedSmtpServer remote = REMOTES.start(ScriptedSmtpServer.create().rcpt("bob@remote.example", 550));
    try (PosternTestServer server = relay(remote)) {
      String id = send(server, "", CONTENT, "bob@remote.example");
      awaitLog(id, " ** bob@remote.example");
      awaitLog(id, " *** Frozen (delivery error message)");
      awaitTrue("frozen envelope", () -> {
        try {
          return RelayTesting.envelope(server, id).getBoolean("frozen");
        } catch (Exception e) {
          return false;
        }
      });
      // The recipient stays pending, as in Exim: thawing the bounce retries it.
      assertEquals(List.of("bob@remote.example=pending"), states(server, id));
      assertTrue(RelayTesting.mainlog("R=" + id).isEmpty(), "no bounce was made");
      assertEquals(List.of(), server.mailbox("alice"));
      // A frozen message is left out of queue runs.
      assertEquals(0, flush(server, new JsonObject().put("force", true)).getInteger("started"));
      assertEquals(1, remote.commands("RCPT").size());
      // -M: thawed, attempted again, refused again, frozen again; still never bounced.
      RelayTesting.runUntilStarted(server, new JsonObject().put("ids", new io.vertx.core.json.JsonArray().add(id))
          .put("force", true).put("thaw", true).put("wait", true));
      awaitLog(id, " Unfrozen by forced delivery");
      assertEquals(2, remote.commands("RCPT").size());
      assertTrue(RelayTesting.envelope(server, id).getBoolean("frozen"), "frozen again");
      assertEquals(List.of("bob@remote.example=pending"), states(server, id));
      assertTrue(RelayTesting.mainlog("R=" + id).isEmpty(), "no bounce was made");
    }
  }

  @Test
  void aFrozenBounceIsDiscardedAfterIgnoreBounceErrorsAfter() throws Exception {
    ScriptedSmtpServer remote = REMOTES.start(ScriptedSmtpServer.create().rcpt("bob@remote.example", 550));
    SettableClock clock = new SettableClock(Instant.now());
    try (PosternTestServer server = relay(clock, remote, "ignore_bounce_errors_after", "1s")) {
      String id = send(server, "", CONTENT, "bob@remote.example");
      awaitLog(id, " *** Frozen (delivery error message)");
      // The attempt logs "Frozen" before it writes the envelope and lets go of the message.
      awaitTrue("the frozen envelope on the spool", () -> frozenOnSpool(server, id));
      assertEquals(0, flush(server, new JsonObject()).getInteger("started"));
      assertTrue(Files.exists(server.spoolInput().resolve(id + "-H")), "young frozen bounces stay");
      // The session stamps the message with the wall clock, after the test clock was made: two
      // seconds past now is past ignore_bounce_errors_after however slowly the server started.
      clock.set(Instant.now().plusSeconds(2));
      // A run skips a message whose attempt still holds its lock, as Exim's does: run until one finds it free.
      Await.until("the old frozen bounce discarded", 20_000, () -> {
        assertEquals(0, flush(server, new JsonObject()).getInteger("started"));
        return !RelayTesting.mainlog(id + " Message is frozen: bounce older than ignore_bounce_errors_after, discarded").isEmpty();
      });
      awaitLog(id, " Completed");
      assertSpoolEmpty(server);
    }
  }

  @Test
  void hostsMaxTryBoundsTheHostsTriedForOneDelivery() throws Exception {
    for (int maxTry : new int[] {2, 5}) {
      List<ScriptedSmtpServer> hosts = List.of(
          REMOTES.start(ScriptedSmtpServer.create().reply(ScriptedSmtpServer.Step.BANNER, 421)),
          REMOTES.start(ScriptedSmtpServer.create().reply(ScriptedSmtpServer.Step.BANNER, 421)),
          REMOTES.start(ScriptedSmtpServer.create().reply(ScriptedSmtpServer.Step.BANNER, 421)));
      String routes = String.join(" : ", hosts.stream().map(h -> "127.0.0.1::" + h.port()).toList());
      try (PosternTestServer server = PosternTestServer.create().option("routers", manualroute(routes))
          .option("transports", "{ remote_smtp: { driver: smtp, connect_timeout: 5s, command_timeout: 5s, "
              + "hosts_max_try: " + maxTry + " } }").start()) {
        String id = send(server, "alice@test.example", CONTENT, "bob@remote.example");
        awaitLog(id, " == bob@remote.example");
        List<Integer> contacted = hosts.stream().map(ScriptedSmtpServer::connections).toList();
        assertEquals(maxTry == 2 ? List.of(1, 1, 0) : List.of(1, 1, 1), contacted, "hosts_max_try " + maxTry);
        assertEquals(List.of("bob@remote.example=pending"), states(server, id));
      }
    }
  }

  @Test
  void mixedAnswersGiveEachRecipientItsOwnState() throws Exception {
    ScriptedSmtpServer remote = REMOTES.start(ScriptedSmtpServer.create()
        .rcpt("b@remote.example", 450).rcpt("c@remote.example", 550));
    try (PosternTestServer server = relay(remote)) {
      String id = send(server, "alice@test.example", CONTENT, "a@remote.example", "b@remote.example",
          "c@remote.example");
      awaitLog(id, " => a@remote.example");
      awaitLog(id, " == b@remote.example");
      awaitLog(id, " ** c@remote.example");
      List<Path> bounce = server.awaitMailbox("alice", 1, 20_000);
      assertEquals(1, bounce.size());
      awaitTrue("c failed in the envelope", () -> {
        try {
          return states(server, id).equals(List.of("a@remote.example=delivered", "b@remote.example=pending",
              "c@remote.example=failed"));
        } catch (Exception e) {
          return false;
        }
      });
      RelayTesting.Report r = report(bounce.get(0));
      assertTrue(r.status().contains("Final-Recipient: rfc822; c@remote.example"), r.status());
      assertFalse(r.status().contains("a@remote.example"), r.status());
      assertFalse(r.status().contains("b@remote.example"), r.status());
      assertEquals(List.of("a@remote.example"), remote.envelopes().get(0).recipients());
    }
  }

  @Test
  void retryExhaustionFailsAndBounces() throws Exception {
    ScriptedSmtpServer remote = REMOTES.start(ScriptedSmtpServer.create().rcpt("bob@remote.example", 451));
    try (PosternTestServer server = relay(remote, "retry", "\"* * F,2s,1s\"", "queue_run_interval", "500ms")) {
      String id = send(server, "alice@test.example", CONTENT, "bob@remote.example");
      String line = awaitLog(id, " ** bob@remote.example");
      assertTrue(line.contains(": retry timeout exceeded (last error: SMTP error from remote mail server after "
          + "RCPT TO:<bob@remote.example>: 451 4.2.0"), line);
      assertTrue(remote.commands("RCPT").size() >= 2, "retried before giving up");
      List<Path> bounce = server.awaitMailbox("alice", 1, 20_000);
      assertEquals(1, bounce.size());
      RelayTesting.Report r = report(bounce.get(0));
      assertTrue(r.status().contains("Final-Recipient: rfc822; bob@remote.example"), r.status());
      assertTrue(r.text().contains("retry timeout exceeded"), r.text());
      assertSpoolEmpty(server);
    }
  }

  private static String received(int n) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++) {
      sb.append("Received: from hop").append(i).append(".example by hop").append(i + 1).append(".example\r\n");
    }
    return sb.toString();
  }

  @Test
  void tooManyReceivedHeadersIsAMailLoop() throws Exception {
    ScriptedSmtpServer remote = REMOTES.start(ScriptedSmtpServer.create());
    try (PosternTestServer server = relay(remote, "queue_only", "true", "received_headers_max", "40")) {
      // A loop found after acceptance (here: the limit was lowered while the message waited) still
      // bounces; at the end of DATA such a message is refused instead (DataPhaseTest).
      // 30 in the message plus Postern's own: 31, one more than received_headers_max.
      String looping = send(server, "alice@test.example", received(30) + CONTENT, "bob@remote.example");
      server.option("received_headers_max", "30").option("queue_only", "false").writeConfig();
      RelayTesting.await(server.vertx().eventBus().request("postern.config.reload", new JsonObject()));
      flush(server, new JsonObject());
      awaitLog(looping, " ** bob@remote.example: Too many Received: headers - suspected mail loop");
      List<Path> bounce = server.awaitMailbox("alice", 1, 20_000);
      assertEquals(1, bounce.size());
      assertTrue(report(bounce.get(0)).text().contains("Too many Received: headers - suspected mail loop"));
      // 29 plus Postern's: exactly the limit, delivered.
      String fine = send(server, "alice@test.example", received(29) + CONTENT, "bob@remote.example");
      awaitLog(fine, " => bob@remote.example");
      assertEquals(1, remote.envelopes().size());
      assertSpoolEmpty(server);
    }
  }

  @Test
  void flushWithADomainDeliversThatDomainOnly() throws Exception {
    ScriptedSmtpServer remote = REMOTES.start(ScriptedSmtpServer.create());
    try (PosternTestServer server = relay(remote, "queue_only", "true")) {
      String one = send(server, "alice@test.example", CONTENT, "bob@one.example");
      String two = send(server, "alice@test.example", CONTENT, "bob@two.example");
      assertEquals(0, remote.connections());
      JsonObject reply = flush(server, new JsonObject().put("domain", "ONE.example"));
      assertEquals(1, reply.getInteger("started"));
      awaitLog(one, " Completed");
      assertEquals(1, remote.envelopes().size());
      assertEquals(List.of("bob@one.example"), remote.envelopes().get(0).recipients());
      assertTrue(server.spoolFiles().contains(two + "-H"));
      assertEquals(0, flush(server, new JsonObject().put("domain", "three.example")).getInteger("started"));
      assertEquals(1, flush(server, new JsonObject()).getInteger("started"));
      awaitLog(two, " Completed");
      assertEquals(2, remote.envelopes().size());
    }
  }
}
