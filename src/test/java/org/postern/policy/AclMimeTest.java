package org.postern.policy;

import org.junit.jupiter.api.Test;
import org.postern.listener.MimeScannerTestMessages;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient;
import org.postern.testing.SmtpTestClient.Reply;

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
      Reply plain = send(c, "Subject: no MIME at all\r\n\r\nbody\r\n");
      assertEquals(250, plain.code(), plain.toString());
      Reply clean = send(c, MimeScannerTestMessages.WITH_EXE.replace("final.EXE", "final.pdf"));
      assertEquals(250, clean.code(), clean.toString());
      assertEquals(2, s.awaitMailbox("alice", 2, 5000).size());
      Thread.sleep(300);
      assertEquals(2, s.mailbox("alice").size(), "the refused message must not be delivered");
    }
  }
}
