package org.postern.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient;

/** {@code ratelimit} over real SMTP connections to a running server. */
class RatelimitSmtpTest {
  private static final String RCPT_ACL = "acl_check_rcpt:\n"
      + "  - deny:    { ratelimit: \"3 / 1h / per_rcpt\", message: \"rate $sender_rate over $sender_rate_limit\" }\n"
      + "  - require: { verify: recipient }\n"
      + "  - accept:  { domains: +local_domains }\n"
      + "  - deny:    { message: relay not permitted }\n"
      + "acl_check_expn:\n  - deny:\nacl_check_etrn:\n  - deny:\n";

  @Test
  void theFourthRecipientIsRefusedAndOnlyTheAcceptedThreeReceiveTheMessage() throws Exception {
    try (PosternTestServer server = PosternTestServer.create().acl(RCPT_ACL).start();
         SmtpTestClient c = SmtpTestClient.connect(server.port())) {
      assertEquals(220, c.reply().code());
      assertEquals(250, c.command("EHLO client.example").code());
      assertEquals(250, c.command("MAIL FROM:<sender@example.org>").code());
      for (String to : List.of("alice", "bob", "admin")) {
        SmtpTestClient.Reply ok = c.command("RCPT TO:<" + to + "@test.example>");
        assertEquals(250, ok.code(), to + ": " + ok);
      }
      // postmaster would reach admin: refused, it must not add a second copy there.
      SmtpTestClient.Reply fourth = c.command("RCPT TO:<postmaster@test.example>");
      assertEquals(550, fourth.code(), fourth.toString());
      assertEquals("5.7.1 rate 4.0 over 3", fourth.text(), fourth.toString());
      // Leaky: the refused one was not counted, so the rate is still 4 with the next attempt.
      SmtpTestClient.Reply fifth = c.command("RCPT TO:<alice@test.example>");
      assertEquals("5.7.1 rate 4.0 over 3", fifth.text(), fifth.toString());
      assertEquals(354, c.command("DATA").code());
      SmtpTestClient.Reply queued = c.command("Subject: limited\r\n\r\nbody\r\n.");
      assertEquals(250, queued.code(), queued.toString());
      assertEquals(221, c.command("QUIT").code());

      // The queue logs one "=>" per delivered recipient, then "Completed" once the envelope is done.
      String id = queued.text().substring(queued.text().indexOf("id=") + 3).strip();
      List<String> log = awaitCompleted(id);
      List<String> delivered = log.stream().filter(l -> l.contains(id + " => "))
          .map(l -> l.substring(l.indexOf(" <") + 1, l.indexOf("> R=") + 1)).sorted().toList();
      assertEquals(List.of("<admin@test.example>", "<alice@test.example>", "<bob@test.example>"), delivered,
          String.join("\n", log));
      assertEquals(1, server.mailbox("alice").size());
      assertEquals(1, server.mailbox("bob").size());
      assertEquals(1, server.mailbox("admin").size());
      String text = Files.readString(server.mailbox("admin").get(0), StandardCharsets.UTF_8);
      assertTrue(text.contains("Subject: limited"), text);
    }
  }

  /** The test JVM's main log (shared by all tests), once it says message {@code id} is completed. */
  private static List<String> awaitCompleted(String id) throws Exception {
    Path mainlog = Path.of(System.getProperty("postern.log.dir", "target/test-logs"), "mainlog");
    long end = System.currentTimeMillis() + 10_000;
    while (System.currentTimeMillis() < end) {
      if (Files.exists(mainlog)) {
        List<String> lines = Files.readAllLines(mainlog, StandardCharsets.UTF_8);
        if (lines.stream().anyMatch(l -> l.contains(id + " Completed"))) {
          return lines;
        }
      }
      Thread.sleep(20);
    }
    throw new AssertionError("message " + id + " not completed according to " + mainlog);
  }

  @Test
  void perConnAtTheConnectStageRefusesTheThirdConnectionAndCountsEachOnce() throws Exception {
    String acl = RCPT_ACL
        + "acl_check_connect:\n"
        + "  - deny:   { ratelimit: \"2 / 1h / per_conn\", message: \"too many connections ($sender_rate/$sender_rate_period)\" }\n"
        + "  - accept:\n"
        // The same counter again: a connection already counted at connect is not counted twice.
        + "acl_check_mail:\n"
        + "  - deny:   { ratelimit: \"2 / 1h / per_conn\", message: \"counted twice ($sender_rate)\" }\n"
        + "  - accept:\n";
    try (PosternTestServer server = PosternTestServer.create().acl(acl)
        .option("acl_smtp_connect", "acl_check_connect").option("acl_smtp_mail", "acl_check_mail").start()) {
      try (SmtpTestClient first = SmtpTestClient.connect(server.port());
           SmtpTestClient second = SmtpTestClient.connect(server.port())) {
        assertEquals(220, first.reply().code());
        assertEquals(220, second.reply().code());
        assertEquals(250, second.command("EHLO client.example").code());
        SmtpTestClient.Reply mail = second.command("MAIL FROM:<sender@example.org>");
        assertEquals(250, mail.code(), mail.toString());
        try (SmtpTestClient third = SmtpTestClient.connect(server.port())) {
          SmtpTestClient.Reply refused = third.reply();
          assertEquals(554, refused.code(), refused.toString());
          assertEquals("5.7.1 too many connections (3.0/1h)", refused.text(), refused.toString());
          assertTrue(third.closedByServer());
        }
        // Refused connections are not counted (leaky): the next one is refused at the same rate.
        try (SmtpTestClient fourth = SmtpTestClient.connect(server.port())) {
          assertEquals("5.7.1 too many connections (3.0/1h)", fourth.reply().text());
        }
        assertEquals(221, first.command("QUIT").code());
      }
    }
  }
}
