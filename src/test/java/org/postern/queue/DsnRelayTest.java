package org.postern.queue;

import jakarta.mail.BodyPart;
import jakarta.mail.Multipart;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postern.testing.MainLogFile;
import org.postern.testing.PosternTestServer;
import org.postern.testing.ScriptedServers;
import org.postern.testing.ScriptedSmtpServer;
import org.postern.testing.SettableClock;
import org.postern.testing.SmtpTestClient;

import io.vertx.core.json.JsonObject;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.queue.RelayTesting.TRANSPORTS;
import static org.postern.queue.RelayTesting.awaitLog;
import static org.postern.queue.RelayTesting.manualroute;

/**
 * RFC 3461 on the relay side, against the scripted server: to a next hop that offers DSN the
 * parameters go on (xtext-encoded again) and no report is made here; to one that does not, they
 * are left off and {@code NOTIFY=SUCCESS} gets {@code Action: relayed} from this MTA.
 */
@Timeout(90)
class DsnRelayTest {
  private static final String MAIL = "<alice@test.example> RET=HDRS ENVID=QQ+2B1";
  private static final String RCPT_SUCCESS = "<bob@remote.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Bob+2Bx@remote.example";
  private static final String RCPT_PLAIN = "<carol@remote.example>";
  @RegisterExtension
  static final ScriptedServers REMOTES = new ScriptedServers();

  @Test
  void aNextHopOfferingDsnGetsTheParametersAndReportsItself() throws Exception {
    ScriptedSmtpServer remote = REMOTES.start(ScriptedSmtpServer.create().dsn(true));
    try (PosternTestServer server = relay(remote)) {
      MainLogFile log = MainLogFile.ofTestJvm().fromNow();
      String id = send(server, MAIL, RCPT_SUCCESS, RCPT_PLAIN);
      log.awaitCompleted(id, 20_000);
      assertEquals(List.of("MAIL FROM:<alice@test.example> SIZE=" + size(remote) + " RET=HDRS ENVID=QQ+2B1"),
          lines(remote.commands("MAIL")));
      assertEquals(List.of("RCPT TO:<bob@remote.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Bob+2Bx@remote.example",
          "RCPT TO:<carol@remote.example>"), lines(remote.commands("RCPT")));
      // The report would be spooled (and logged) before Completed.
      assertEquals(List.of(), log.lines(" <= <> R=" + id));
    }
  }

  /**
   * An ORCPT at RFC 3461 4.2's 500 characters makes a RCPT line longer than RFC 5321's 512; the
   * DSN extension's 500 extra octets let it in and the transport passes it on unchanged.
   */
  @Test
  void aFiveHundredCharacterOrcptGoesOnToTheNextHop() throws Exception {
    ScriptedSmtpServer remote = REMOTES.start(ScriptedSmtpServer.create().dsn(true));
    String orcpt = "rfc822;b@" + "x".repeat(491);
    try (PosternTestServer server = relay(remote)) {
      MainLogFile log = MainLogFile.ofTestJvm().fromNow();
      String id = send(server, "<alice@test.example>", "<bob@remote.example> NOTIFY=FAILURE ORCPT=" + orcpt);
      log.awaitCompleted(id, 20_000);
      assertEquals(List.of("RCPT TO:<bob@remote.example> NOTIFY=FAILURE ORCPT=" + orcpt), lines(remote.commands("RCPT")));
    }
  }

  @Test
  void aNextHopWithoutDsnGetsNoParametersAndSuccessIsRelayed() throws Exception {
    ScriptedSmtpServer remote = REMOTES.start(ScriptedSmtpServer.create());
    try (PosternTestServer server = relay(remote)) {
      List<Path> before = server.mailbox("alice");
      String id = send(server, MAIL, RCPT_SUCCESS, RCPT_PLAIN);
      awaitLog(id, " Completed");
      assertEquals(List.of("MAIL FROM:<alice@test.example> SIZE=" + size(remote)), lines(remote.commands("MAIL")));
      assertEquals(List.of("RCPT TO:<bob@remote.example>", "RCPT TO:<carol@remote.example>"),
          lines(remote.commands("RCPT")));
      awaitLog(id, " <= <> R=" + id, "(success DSN)");

      List<Path> now = server.awaitMailbox("alice", before.size() + 1, 20_000);
      Path added = now.stream().filter(f -> !before.contains(f)).findFirst().orElseThrow();
      MimeMessage report;
      try (InputStream in = Files.newInputStream(added)) {
        report = new MimeMessage(Session.getInstance(new Properties()), in);
      }
      Multipart parts = (Multipart) report.getContent();
      BodyPart status = parts.getBodyPart(1);
      assertEquals("message/delivery-status", status.getContentType().split(";")[0]);
      List<Map<String, String>> groups = BounceMessageTest.fieldGroups(new String(
          ((MimeBodyPart) status).getRawInputStream().readAllBytes(), StandardCharsets.ISO_8859_1));
      assertEquals("QQ+1", groups.get(0).get("Original-Envelope-Id"));
      // carol did not ask for success.
      assertEquals(2, groups.size(), groups.toString());
      assertEquals("rfc822;Bob+x@remote.example", groups.get(1).get("Original-Recipient"));
      assertEquals("rfc822; bob@remote.example", groups.get(1).get("Final-Recipient"));
      assertEquals("relayed", groups.get(1).get("Action"));
      assertEquals("2.0.0", groups.get(1).get("Status"));
      assertEquals("dns; 127.0.0.1", groups.get(1).get("Remote-MTA"));
      assertEquals("smtp; 250 2.0.0 OK id=scripted1", groups.get(1).get("Diagnostic-Code"));
      assertEquals("text/rfc822-headers", parts.getBodyPart(2).getContentType().split(";")[0]);
    }
  }

  @Test
  void aRecipientWhoseNotifyLacksDelayIsNotInTheDelayWarning() throws Exception {
    ScriptedSmtpServer remote = REMOTES.start(ScriptedSmtpServer.create().rcpt("bob@remote.example", 451)
        .rcpt("carol@remote.example", 451));
    Instant t0 = Instant.now();
    SettableClock clock = new SettableClock(t0);
    try (PosternTestServer server = PosternTestServer.create()
        .option("routers", manualroute("127.0.0.1::" + remote.port())).option("transports", TRANSPORTS)
        .replace(QueueVerticle.class.getName(), () -> new QueueVerticle(clock)).start()) {
      String id = send(server, "<alice@test.example>", "<bob@remote.example> NOTIFY=FAILURE",
          "<carol@remote.example> NOTIFY=DELAY,FAILURE");
      awaitLog(id, " == carol@remote.example", "451 4.2.0");
      // delay_warning 24h: past it, a queue run warns the sender.
      clock.set(t0.plus(Duration.ofHours(25)));
      RelayTesting.runUntilStarted(server, new JsonObject().put("wait", true));
      List<Path> mail = server.awaitMailbox("alice", 1, 20_000);
      RelayTesting.Report warning = RelayTesting.report(mail.get(0));
      assertTrue(warning.subject().startsWith("Warning: message " + id + " delayed"), warning.subject());
      assertTrue(warning.status().contains("Final-Recipient: rfc822; carol@remote.example"), warning.status());
      assertFalse(warning.status().contains("bob@remote.example"), warning.status());
    }
  }

  private static PosternTestServer relay(ScriptedSmtpServer remote) throws Exception {
    return PosternTestServer.create().option("routers", manualroute("127.0.0.1::" + remote.port()))
        .option("transports", TRANSPORTS).start();
  }

  /** The SIZE= the transport declares: the spooled size, Received header included, as the server saw it. */
  private static String size(ScriptedSmtpServer remote) {
    String mail = remote.commands("MAIL").get(0).line();
    return mail.replaceAll(".* SIZE=(\\d+).*", "$1");
  }

  private static List<String> lines(List<ScriptedSmtpServer.Command> commands) {
    return commands.stream().map(ScriptedSmtpServer.Command::line).toList();
  }

  private static String send(PosternTestServer server, String mailFrom, String... rcpts) throws Exception {
    return SmtpTestClient.submit(server.port(), mailFrom, "Subject: relayed dsn\r\n\r\nthe body\r\n", rcpts);
  }

}
