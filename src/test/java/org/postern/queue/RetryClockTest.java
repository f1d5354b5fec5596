package org.postern.queue;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postern.testing.PosternTestServer;
import org.postern.testing.ScriptedServers;
import org.postern.testing.ScriptedSmtpServer;
import org.postern.testing.SettableClock;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.queue.RelayTesting.TRANSPORTS;
import static org.postern.queue.RelayTesting.assertSpoolEmpty;
import static org.postern.queue.RelayTesting.awaitLog;
import static org.postern.queue.RelayTesting.manualroute;
import static org.postern.queue.RelayTesting.report;
import static org.postern.queue.RelayTesting.send;
import static org.postern.queue.RelayTesting.states;

/**
 * Four days of Exim's default retry rule ({@code F,2h,15m; G,16h,1h,1.5; F,4d,6h}) and the default
 * {@code delay_warning} (24h), played through the real queue on a clock the test moves: a
 * destination that keeps answering 451 is contacted only when its retry time has come, its sender
 * is warned after a day, and after the final cutoff the recipient fails and is bounced.
 */
@Timeout(120)
class RetryClockTest {
  private static final String CONTENT = "Subject: days of retries\r\n\r\nHello.\r\n";
  @RegisterExtension
  static final ScriptedServers REMOTES = new ScriptedServers();

  /** A queue run that attempts the message, waited for; the RCPT commands the remote has seen after it. */
  private static int run(PosternTestServer server, ScriptedSmtpServer remote) throws Exception {
    RelayTesting.runUntilStarted(server, new JsonObject().put("wait", true));
    return remote.commands("RCPT").size();
  }

  @Test
  void theDefaultRetryRuleSpacesAttemptsWarnsAfterADayAndGivesUpAfterFourDays() throws Exception {
    ScriptedSmtpServer remote = REMOTES.start(ScriptedSmtpServer.create().rcpt("bob@remote.example", 451));
    Instant t0 = Instant.now();
    SettableClock clock = new SettableClock(t0);
    try (PosternTestServer server = PosternTestServer.create()
        .option("routers", manualroute("127.0.0.1::" + remote.port())).option("transports", TRANSPORTS)
        .replace(QueueVerticle.class.getName(), () -> new QueueVerticle(clock))
        .start()) {
      String id = send(server, "alice@test.example", CONTENT, "bob@remote.example");
      awaitLog(id, " == bob@remote.example", "451 4.2.0");
      assertEquals(1, remote.commands("RCPT").size());

      // F,2h,15m: nothing before a quarter of an hour, then a retry.
      clock.advance(Duration.ofMinutes(14));
      assertEquals(1, run(server, remote));
      awaitLog(id, " == bob@remote.example: retry time not reached");
      clock.advance(Duration.ofMinutes(2));
      assertEquals(2, run(server, remote));

      // G,16h,1h,1.5: past two hours the interval grows from an hour.
      clock.advance(Duration.ofMinutes(3 * 60 - 16));
      assertEquals(3, run(server, remote));
      clock.advance(Duration.ofMinutes(50));
      assertEquals(3, run(server, remote));
      assertTrue(server.mailbox("alice").isEmpty(), "no delay warning within the first day");

      // A day later: retried, and the sender hears the message is delayed (delay_warning 24h).
      clock.set(t0.plus(Duration.ofHours(25)));
      assertEquals(4, run(server, remote));
      List<Path> mail = server.awaitMailbox("alice", 1, 20_000);
      RelayTesting.Report warning = report(mail.get(0));
      assertTrue(warning.subject().startsWith("Warning: message " + id + " delayed"), warning.subject());
      assertTrue(warning.status().contains("Action: delayed"), warning.status());
      assertEquals(List.of("bob@remote.example=pending"), states(server, id));

      // F,4d,6h: five hours on is still too early.
      clock.advance(Duration.ofHours(5));
      assertEquals(4, run(server, remote));

      // Past the final cutoff, the next failure is the last: the recipient fails and is bounced.
      clock.set(t0.plus(Duration.ofDays(4)).plus(Duration.ofHours(1)));
      assertEquals(5, run(server, remote));
      String line = awaitLog(id, " ** bob@remote.example");
      assertTrue(line.contains("retry timeout exceeded"), line);
      mail = server.awaitMailbox("alice", 2, 20_000);
      List<String> statuses = List.of(report(mail.get(0)).status(), report(mail.get(1)).status());
      String failed = statuses.stream().filter(s -> s.contains("Action: failed")).findFirst().orElseThrow(
          () -> new AssertionError("no bounce among " + statuses));
      assertTrue(failed.contains("Final-Recipient: rfc822; bob@remote.example"), failed);
      assertSpoolEmpty(server);
      assertEquals(5, remote.commands("RCPT").size());
    }
  }
}
