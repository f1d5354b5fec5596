package org.postern.queue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postern.testing.MainLogFile;
import org.postern.testing.PosternTestServer;
import org.postern.testing.ScriptedServers;
import org.postern.testing.ScriptedSmtpServer;
import org.postern.testing.SmtpTestClient;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.queue.RelayTesting.TRANSPORTS;
import static org.postern.queue.RelayTesting.manualroute;

/**
 * RFC 3461 6.2.7 end to end through {@code conf/aliases}: an alias to one address passes NOTIFY
 * and ORCPT on to it; an alias to several reports {@code Action: expanded} once to NOTIFY=SUCCESS
 * and its members do not ask for success again.
 */
@Timeout(90)
class DsnRedirectTest {
  private static final String SENDER = "<alice@test.example>";
  private static final String CONTENT = "Subject: redirected\r\n\r\nthe body\r\n";
  @RegisterExtension
  static final ScriptedServers REMOTES = new ScriptedServers();

  private static PosternTestServer relay(ScriptedSmtpServer remote) throws Exception {
    return PosternTestServer.create().aliases("postmaster: admin", "fwd: bob@remote.example",
            "team: bob, carol@remote.example")
        .option("routers", manualroute("127.0.0.1::" + remote.port())).option("transports", TRANSPORTS).start();
  }

  @Test
  void anAliasToOneAddressWithNotifyNeverGetsNoBounceWhenItFails() throws Exception {
    ScriptedSmtpServer remote = REMOTES.start(ScriptedSmtpServer.create().rcpt("bob@remote.example", 550));
    try (PosternTestServer server = relay(remote)) {
      MainLogFile log = MainLogFile.ofTestJvm().fromNow();
      String id = SmtpTestClient.submit(server.port(), SENDER, CONTENT, "<fwd@test.example> NOTIFY=NEVER");
      log.await(20_000, id + " ** bob@remote.example");
      log.awaitCompleted(id, 20_000);
      // A bounce would be spooled and logged before Completed.
      assertEquals(List.of(), log.lines(" <= <> R=" + id));
      assertEquals(1, log.lines(id + " no failure DSN for bob@remote.example: NOTIFY excludes FAILURE").size());
      assertEquals(List.of(), server.mailbox("alice"));
    }
  }

  @Test
  void notifySuccessToAOneToOneAliasIsReportedByItsTargetWithTheOriginalOrcpt() throws Exception {
    ScriptedSmtpServer remote = REMOTES.start(ScriptedSmtpServer.create());
    try (PosternTestServer server = relay(remote)) {
      MainLogFile log = MainLogFile.ofTestJvm().fromNow();
      String id = SmtpTestClient.submit(server.port(), SENDER, CONTENT,
          "<fwd@test.example> NOTIFY=SUCCESS ORCPT=rfc822;Fwd@test.example");
      log.awaitCompleted(id, 20_000);
      assertEquals(1, log.lines(" <= <> R=" + id, "(success DSN)").size(), log.lines().toString());
      List<Map<String, String>> groups = report(server);
      assertEquals(2, groups.size(), groups.toString());
      assertEquals("rfc822;Fwd@test.example", groups.get(1).get("Original-Recipient"));
      assertEquals("rfc822; bob@remote.example", groups.get(1).get("Final-Recipient"));
      assertEquals("relayed", groups.get(1).get("Action"));
    }
  }

  @Test
  void notifySuccessToAListAliasGetsOneExpandedReport() throws Exception {
    ScriptedSmtpServer remote = REMOTES.start(ScriptedSmtpServer.create());
    try (PosternTestServer server = relay(remote)) {
      MainLogFile log = MainLogFile.ofTestJvm().fromNow();
      String id = SmtpTestClient.submit(server.port(), SENDER, CONTENT,
          "<team@test.example> NOTIFY=SUCCESS ORCPT=rfc822;team@test.example");
      log.await(20_000, id + " => carol@remote.example");
      log.awaitCompleted(id, 20_000);
      // Exactly one report: carol's relay (to a next hop without DSN) does not report success again.
      assertEquals(1, log.lines(" <= <> R=" + id).size(), log.lines().toString());
      List<Map<String, String>> groups = report(server);
      assertEquals(2, groups.size(), groups.toString());
      assertEquals("rfc822;team@test.example", groups.get(1).get("Original-Recipient"));
      assertEquals("rfc822; team@test.example", groups.get(1).get("Final-Recipient"));
      assertEquals("expanded", groups.get(1).get("Action"));
      assertEquals("2.0.0", groups.get(1).get("Status"));
      assertEquals(List.of("RCPT TO:<carol@remote.example>"),
          remote.commands("RCPT").stream().map(ScriptedSmtpServer.Command::line).toList());
    }
  }

  /** The one report in alice's mailbox: its delivery-status field groups. */
  private static List<Map<String, String>> report(PosternTestServer server) throws Exception {
    List<Path> mail = server.awaitMailbox("alice", 1, 20_000);
    assertEquals(1, mail.size(), mail.toString());
    RelayTesting.Report r = RelayTesting.report(mail.get(0));
    assertTrue(r.contentType().startsWith("multipart/report"), r.contentType());
    return BounceMessageTest.fieldGroups(r.status());
  }
}
