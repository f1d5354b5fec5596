package org.postern.log;

import org.junit.jupiter.api.Test;
import org.postern.testing.MainLogFile;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient;
import org.postern.testing.SmtpTestClient.Reply;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Exim's {@code rejectlog} beside the main log: each refusal's line as the main log has it, and
 * after DATA the envelope and the header lines with Exim's flags below it.
 */
class RejectLogTest {
  private static final MainLogFile MAIN_LOG = MainLogFile.ofTestJvm();
  private static final MainLogFile REJECT_LOG = new MainLogFile(MAIN_LOG.file().resolveSibling("rejectlog"));

  private static final String ACL = "acl_check_rcpt:\n"
      + "  - deny:   { local_parts: nobody, message: \"no such user here\" }\n"
      + "  - accept: { domains: +local_domains }\n"
      + "acl_check_data:\n"
      + "  - deny:   { recipients: \"bob@test.example\", message: \"looks like spam\" }\n"
      + "  - accept:\n"
      + "acl_check_expn:\n  - deny:\nacl_check_etrn:\n  - deny:\n";

  @Test
  void refusalsAreInTheRejectLogAndAfterDataWithTheEnvelopeAndFlaggedHeaders() throws Exception {
    try (PosternTestServer server = PosternTestServer.create().acl(ACL).option("acl_smtp_data", "acl_check_data")
        .start(); SmtpTestClient c = SmtpTestClient.connect(server.port())) {
      MainLogFile rejects = REJECT_LOG.fromNow();
      assertEquals(220, c.reply().code());
      assertEquals(250, c.command("EHLO client.example").code());
      assertEquals(250, c.command("MAIL FROM:<sender@example.org>").code());
      Reply refused = c.command("RCPT TO:<nobody@test.example>");
      assertEquals(550, refused.code(), refused.toString());
      String rcptLine = MAIN_LOG.await(5000, "rejected RCPT <nobody@test.example>", c.hostForLog());
      String rcptReject = rejects.await(5000, "rejected RCPT <nobody@test.example>", c.hostForLog());
      assertEquals(MainLogFile.event(rcptLine), MainLogFile.event(rcptReject), "the same line in both logs");

      assertEquals(250, c.command("RCPT TO:<alice@test.example>").code());
      assertEquals(250, c.command("RCPT TO:<bob@test.example>").code());
      assertEquals(354, c.command("DATA").code());
      Reply spam = c.command("Subject: cheap spam\r\nFrom: <sender@example.org>\r\nX-Note: one\r\n  two\r\n\r\nbody\r\n.");
      assertEquals(550, spam.code(), spam.toString());
      rejects.await(5000, "rejected after DATA: ", c.hostForLog(), "looks like spam");
      List<String> lines = rejects.lines();
      int at = lines.indexOf(lines.stream().filter(l -> l.contains("rejected after DATA")).findFirst().orElseThrow());
      assertEquals(List.of("Envelope-from: <sender@example.org>", "Envelope-to: <alice@test.example>",
              "    <bob@test.example>", "  Subject: cheap spam", "F From: <sender@example.org>", "  X-Note: one",
              "    two"),
          lines.subList(at + 1, Math.min(lines.size(), at + 8)), String.join("\n", lines));
      assertEquals(221, c.command("QUIT").code());
      assertTrue(server.mailbox("alice").isEmpty(), "nothing delivered");
    }
  }
}
