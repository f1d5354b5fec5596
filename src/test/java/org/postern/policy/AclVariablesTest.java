package org.postern.policy;

import org.junit.jupiter.api.Test;
import org.postern.config.ConfigException;
import org.postern.config.ConfigLoader;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code set: { acl_m0: ... }}: message variables live for one transaction, connection variables for the session. */
class AclVariablesTest {
  private static final String ACL = "acl_check_rcpt:\n"
      + "  - warn:   { set: { acl_m0: \"rcpt $local_part\", acl_c0: \"conn $sender_helo_name\" } }\n"
      + "  - accept: { domains: +local_domains }\n"
      + "acl_check_data:\n"
      + "  - deny:   { condition: \"${if eq{$acl_m0}{rcpt bob}}\", message: \"m0=$acl_m0 c0=$acl_c0\" }\n"
      + "  - accept:\n"
      + "acl_check_mail:\n"
      + "  - deny:   { condition: \"${if def:acl_m0}\", message: \"acl_m0 leaked: $acl_m0\" }\n"
      + "  - accept: { condition: \"${if or{{!def:acl_c0}{eq{$acl_c0}{conn client.example}}}}\" }\n"
      + "acl_check_expn:\n  - deny:\nacl_check_etrn:\n  - deny:\n";

  private static SmtpTestClient.Reply transaction(SmtpTestClient c, String to) throws Exception {
    assertEquals(250, c.command("MAIL FROM:<sender@example.org>").code());
    assertEquals(250, c.command("RCPT TO:<" + to + ">").code());
    assertEquals(354, c.command("DATA").code());
    return c.command("Subject: vars\r\n\r\nx\r\n.");
  }

  @Test
  void messageVariablesResetPerTransactionConnectionVariablesPersist() throws Exception {
    try (PosternTestServer server = PosternTestServer.create().acl(ACL).option("acl_smtp_data", "acl_check_data")
        .option("acl_smtp_mail", "acl_check_mail").start();
         SmtpTestClient c = SmtpTestClient.connect(server.port())) {
      assertEquals(220, c.reply().code());
      assertEquals(250, c.command("EHLO client.example").code());
      SmtpTestClient.Reply refused = transaction(c, "bob@test.example");
      assertEquals(550, refused.code(), refused.toString());
      assertEquals("m0=rcpt bob c0=conn client.example", refused.text().substring(6), refused.toString());
      // A new transaction: acl_m0 is gone (the mail ACL would refuse otherwise), acl_c0 stays.
      SmtpTestClient.Reply accepted = transaction(c, "alice@test.example");
      assertEquals(250, accepted.code(), accepted.toString());
      assertEquals(1, server.awaitMailbox("alice", 1, 5000).size());
    }
  }

  @Test
  void onlyAclVariablesCanBeSet() throws Exception {
    PosternTestServer server = PosternTestServer.create()
        .acl("acl_check_rcpt:\n  - warn: { set: { local_part: x } }\nacl_check_expn:\n  - deny:\n"
            + "acl_check_etrn:\n  - deny:\n");
    try {
      ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(server.writeConfig()));
      assertTrue(e.getMessage().contains("local_part"), e.getMessage());
      assertEquals(2, e.line(), e.getMessage());
    } finally {
      server.close();
    }
  }
}
