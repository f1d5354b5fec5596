package org.postern.policy;

import org.junit.jupiter.api.Test;
import org.postern.listener.MimeScannerTestMessages;
import org.postern.testing.MainLogFile;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient;
import org.postern.testing.SmtpTestClient.Reply;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Exim's MIME ACL ({@code acl_smtp_mime}): once per part, before the data ACL, over a real session. */
class AclMimeTest {
  private static final String ACL = "acl_check_rcpt:\n  - accept: { domains: +local_domains }\n"
      + "acl_check_mime:\n"
      + "  - deny:   { condition: '${if match{$mime_filename}{(?i)[.](exe|scr)\\$}}',"
      + " message: \"attachment $mime_filename ($mime_content_type) refused\" }\n"
      + "  - deny:   { condition: \"${if eq{$mime_content_type}{text/x-never}}\" }\n"
      + "  - accept:\n"
      + "acl_check_data:\n  - deny: { condition: \"${if eq{$acl_m_seen}{data}}\" }\n  - accept:\n"
      + "acl_check_expn:\n  - deny:\nacl_check_etrn:\n  - deny:\n";

  private static Reply send(SmtpTestClient c, String message) throws Exception {
    assertEquals(250, c.command("MAIL FROM:<a@example.org>").code());
    assertEquals(250, c.command("RCPT TO:<alice@test.example>").code());
    assertEquals(354, c.command("DATA").code());
    return c.command(message + ".");
  }

  @Test
  void aRefusedPartRefusesTheMessageAndOthersPass() throws Exception {
    try (PosternTestServer s = PosternTestServer.create().acl(ACL).option("acl_smtp_mime", "acl_check_mime")
        .option("acl_smtp_data", "acl_check_data").start();
         SmtpTestClient c = SmtpTestClient.connect(s.port())) {
      assertEquals(220, c.reply().code());
      assertEquals(250, c.command("EHLO client.example").code());
      Reply refused = send(c, MimeScannerTestMessages.WITH_EXE);
      assertEquals(550, refused.code(), refused.toString());
      assertTrue(refused.text().endsWith("attachment report; final.EXE (application/octet-stream) refused"),
          refused.toString());
      MainLogFile.ofTestJvm().await(5000, "rejected after DATA: ", c.hostForLog(), "final.EXE");
      Reply plain = send(c, "Subject: no MIME at all\r\n\r\nbody\r\n");
      assertEquals(250, plain.code(), plain.toString());
      Reply clean = send(c, MimeScannerTestMessages.WITH_EXE.replace("final.EXE", "final.pdf"));
      assertEquals(250, clean.code(), clean.toString());
      for (Reply accepted : List.of(plain, clean)) {
        MainLogFile.ofTestJvm().awaitCompleted(accepted.text().replaceAll(".*id=", ""), 5000);
      }
      assertEquals(2, s.mailbox("alice").size(), "the refused message must not be delivered");
    }
  }

  /** The MIME ACL example of the README, as written there, with a rcpt ACL that takes the local domains. */
  static String readmeAcl() throws Exception {
    String readme = Files.readString(Path.of("README.md"), StandardCharsets.UTF_8);
    int section = readme.indexOf("### The MIME ACL");
    int start = readme.indexOf("```yaml\n", section) + "```yaml\n".length();
    String example = readme.substring(start, readme.indexOf("```", start));
    assertTrue(example.startsWith("acl_check_mime:"), example);
    return "acl_check_rcpt:\n  - accept: { domains: +local_domains }\n" + example
        + "acl_check_expn:\n  - deny:\nacl_check_etrn:\n  - deny:\n";
  }

  /**
   * Each message through one session with the README's MIME ACL: every one must be refused at the
   * end of DATA with nothing left on the spool; the plain message sent last is then accepted.
   */
  private static void assertRefusedByTheReadmeAcl(List<String> messages) throws Exception {
    try (PosternTestServer s = PosternTestServer.create().acl(readmeAcl()).option("acl_smtp_mime", "acl_check_mime")
        .start();
         SmtpTestClient c = SmtpTestClient.connect(s.port())) {
      assertEquals(220, c.reply().code());
      assertEquals(250, c.command("EHLO client.example").code());
      for (String message : messages) {
        Reply refused = send(c, message);
        assertEquals(550, refused.code(), () -> refused + "\n" + message);
        assertEquals("5.7.1", refused.enhanced(), refused::toString);
        assertEquals(List.of(), s.spoolFiles(), () -> "refused, yet spooled: " + message);
      }
      Reply clean = send(c, MimeScannerTestMessages.withAttachment("", "filename*=utf-8''r%C3%A9sum%C3%A9.pdf"));
      assertEquals(250, clean.code(), clean.toString());
      assertEquals(1, s.awaitMailbox("alice", 1, 5000).size());
    }
  }

  @Test
  void theReadmeExampleRefusesExecutablesInEveryRfc2231AndRfc2047Form() throws Exception {
    List<String> messages = new ArrayList<>();
    for (String form : MimeScannerTestMessages.EXE_FILENAMES) {
      messages.add(MimeScannerTestMessages.withAttachment("", form));
      messages.add(MimeScannerTestMessages.withAttachment(MimeScannerTestMessages.asName(form), ""));
    }
    for (String form : MimeScannerTestMessages.AMBIGUOUS_FILENAMES) {
      messages.add(MimeScannerTestMessages.withAttachment("", form));
      messages.add(MimeScannerTestMessages.withAttachment(MimeScannerTestMessages.asName(form), ""));
    }
    assertRefusedByTheReadmeAcl(messages);
  }

  @Test
  void theReadmeExampleRefusesPartsNestedTooDeepToBeScanned() throws Exception {
    assertRefusedByTheReadmeAcl(List.of(MimeScannerTestMessages.nested(25)));
  }
}
