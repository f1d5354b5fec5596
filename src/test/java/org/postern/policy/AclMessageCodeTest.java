package org.postern.policy;

import org.junit.jupiter.api.Test;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Exim's {@code smtp_message_code}: a refusal's {@code message} may start with its own reply code
 * and enhanced code; the code is used only when its first digit is the verdict's.
 */
class AclMessageCodeTest {
  private static final String ACL = "acl_check_rcpt:\n"
      + "  - defer: { local_parts: later, message: \"451 4.7.1 Greylisted, try later\" }\n"
      + "  - deny:  { local_parts: wrongclass, message: \"451 4.7.1 Not really temporary\" }\n"
      + "  - deny:  { local_parts: gone, message: \"551 5.1.6 Moved away\" }\n"
      + "  - accept: { domains: +local_domains }\n"
      + "acl_check_expn:\n  - deny:\nacl_check_etrn:\n  - deny:\n";

  @Test
  void leadingCodeInTheMessageIsTheReplyWhenItsClassMatches() throws Exception {
    try (PosternTestServer server = PosternTestServer.create().acl(ACL).start();
         SmtpTestClient c = SmtpTestClient.connect(server.port())) {
      assertEquals(220, c.reply().code());
      assertEquals(250, c.command("EHLO client.example").code());
      assertEquals(250, c.command("MAIL FROM:<sender@example.org>").code());
      SmtpTestClient.Reply later = c.command("RCPT TO:<later@test.example>");
      assertEquals("451 4.7.1 Greylisted, try later", later.toString());
      SmtpTestClient.Reply gone = c.command("RCPT TO:<gone@test.example>");
      assertEquals("551 5.1.6 Moved away", gone.toString());
      // A deny cannot answer 4xx: the stage's own 550 stands, with the text.
      SmtpTestClient.Reply wrong = c.command("RCPT TO:<wrongclass@test.example>");
      assertEquals("550 5.7.1 Not really temporary", wrong.toString());
    }
  }
}
