package org.postern.policy;

import org.junit.jupiter.api.Test;
import org.postern.config.ConfigException;
import org.postern.config.ConfigLoader;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient;
import org.postern.testing.SmtpTestClient.Reply;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** senders, local_parts and recipients with named and file lists, over real sessions; list files reload live. */
class AclListConditionsTest {
  private static final String TAIL = "acl_check_expn:\n  - deny:\nacl_check_etrn:\n  - deny:\n";
  private static final long WITHIN_MS = 2000;

  private static SmtpTestClient session(PosternTestServer s) throws Exception {
    SmtpTestClient c = SmtpTestClient.connect(s.port());
    assertEquals(220, c.reply().code());
    assertEquals(250, c.command("EHLO client.example").code());
    return c;
  }

  private static Reply rcpt(PosternTestServer s, String from, String to) throws Exception {
    try (SmtpTestClient c = session(s)) {
      Reply mail = c.command("MAIL FROM:<" + from + ">");
      assertEquals(250, mail.code(), mail.toString());
      return c.command("RCPT TO:<" + to + ">");
    }
  }

  @Test
  void sendersAndLocalPartsWithNamedLists() throws Exception {
    String acl = "acl_check_rcpt:\n"
        + "  - deny:   { local_parts: \"^.*[@%!/|] : ^\\\\.\", message: \"restricted characters in address\" }\n"
        + "  - deny:   { senders: \"+blocked_senders : *@spam.example\", message: \"sender $sender_address blocked\" }\n"
        + "  - deny:   { senders: \":\", local_parts: +no_bounces, message: \"no bounces to $local_part\" }\n"
        + "  - accept: { domains: +local_domains }\n";
    try (PosternTestServer s = PosternTestServer.create().acl(acl + TAIL)
        .option("addresslist", "{ blocked_senders: [ \"boss@evil.example\", \"*@*.evil.example\" ] }")
        .option("localpartlist", "{ no_bounces: \"bob : *-noreply\" }")
        .start()) {
      assertEquals(250, rcpt(s, "friend@example.org", "alice@test.example").code());
      Reply spam = rcpt(s, "anyone@spam.example", "alice@test.example");
      assertEquals(550, spam.code(), spam.toString());
      assertTrue(spam.text().endsWith("sender anyone@spam.example blocked"), spam.toString());
      assertEquals(550, rcpt(s, "Boss@EVIL.example", "alice@test.example").code());
      assertEquals(550, rcpt(s, "x@mail.evil.example", "alice@test.example").code());
      assertEquals(250, rcpt(s, "x@evil.example.org", "alice@test.example").code());
      // The percent hack and friends never reach routing.
      Reply percent = rcpt(s, "friend@example.org", "alice%remote.example@test.example");
      assertEquals(550, percent.code(), percent.toString());
      assertTrue(percent.text().endsWith("restricted characters in address"), percent.toString());
      assertEquals(550, rcpt(s, "friend@example.org", "a!remote.example@test.example").code());
      assertEquals(501, rcpt(s, "friend@example.org", ".hidden@test.example").code(), "not a dot-atom");
      assertEquals(550, rcpt(s, "friend@example.org", "\".hidden\"@test.example").code());
      // The null sender to a no-bounce local part, and to others.
      assertEquals(550, rcpt(s, "", "bob@test.example").code());
      assertEquals(250, rcpt(s, "", "alice@test.example").code());
      assertEquals(250, rcpt(s, "friend@example.org", "bob@test.example").code());
    }
  }

  @Test
  void recipientsConditionInTheDataAclSeesEveryRecipientAndNothingIsDelivered() throws Exception {
    String acl = "acl_check_rcpt:\n  - accept: { domains: +local_domains }\n"
        + "acl_check_data:\n"
        + "  - deny:   { recipients: \"bob@test.example\", message: \"not with bob ($recipients)\" }\n"
        + "  - accept:\n";
    try (PosternTestServer s = PosternTestServer.create().acl(acl + TAIL).option("acl_smtp_data", "acl_check_data")
        .start(); SmtpTestClient c = session(s)) {
      assertEquals(250, c.command("MAIL FROM:<friend@example.org>").code());
      assertEquals(250, c.command("RCPT TO:<alice@test.example>").code());
      assertEquals(250, c.command("RCPT TO:<bob@test.example>").code());
      assertEquals(354, c.command("DATA").code());
      Reply refused = c.command("Subject: x\r\n\r\nbody\r\n.");
      assertEquals(550, refused.code(), refused.toString());
      assertTrue(refused.text().endsWith("not with bob (alice@test.example, bob@test.example)"), refused.toString());
      // Without bob, the same message goes through.
      assertEquals(250, c.command("MAIL FROM:<friend@example.org>").code());
      assertEquals(250, c.command("RCPT TO:<alice@test.example>").code());
      assertEquals(354, c.command("DATA").code());
      assertEquals(250, c.command("Subject: y\r\n\r\nbody\r\n.").code());
      assertEquals(1, s.awaitMailbox("alice", 1, 5000).size());
      Thread.sleep(300);
      assertEquals(1, s.mailbox("alice").size(), "the refused message must not be delivered");
      assertTrue(s.mailbox("bob").isEmpty());
    }
  }

  @Test
  void aListFileChangeTakesEffectAndABrokenOneLeavesTheOldRules() throws Exception {
    PosternTestServer server = PosternTestServer.create();
    Path blocked = server.root().resolve("blocked-hosts");
    Files.writeString(blocked, "# hosts refused at RCPT\n192.0.2.1\n");
    String acl = "acl_check_rcpt:\n  - deny: { hosts: +blocked, message: \"$sender_host_address is blocked\" }\n"
        + "  - accept: { domains: +local_domains }\n";
    try (PosternTestServer s = server.acl(acl + TAIL).option("hostlist", "{ blocked: \"" + blocked + "\" }").start()) {
      assertEquals(250, rcpt(s, "a@example.org", "alice@test.example").code());
      String before = generation(s);

      Files.writeString(blocked, "# hosts refused at RCPT\n192.0.2.1\n127.0.0.1\n");
      Reply denied = await(s, 550);
      assertEquals(550, denied.code(), "the new list entry should apply within " + WITHIN_MS + " ms: " + denied);
      assertTrue(denied.text().endsWith("127.0.0.1 is blocked"), denied.toString());
      String listed = generation(s);
      assertNotEquals(before, listed);

      Files.writeString(blocked, "127.0.0.1\n10.1/16\n");
      ConfigException refused = assertThrows(ConfigException.class,
          () -> ConfigLoader.load(s.confDir().resolve("postern.yaml")));
      assertTrue(refused.getMessage().contains(blocked + " line 2"), refused.getMessage());
      Thread.sleep(WITHIN_MS);
      assertEquals(listed, generation(s), "a broken list file must not replace the rules in force");
      assertEquals(550, rcpt(s, "a@example.org", "alice@test.example").code());

      Files.delete(blocked);
      Thread.sleep(WITHIN_MS);
      assertEquals(listed, generation(s), "a missing list file must not replace the rules in force");

      Files.writeString(blocked, "192.0.2.1\n");
      assertEquals(250, await(s, 250).code());
    }
  }

  private static Reply await(PosternTestServer s, int code) throws Exception {
    long deadline = System.currentTimeMillis() + WITHIN_MS;
    Reply last;
    do {
      last = rcpt(s, "a@example.org", "alice@test.example");
      if (last.code() == code) {
        return last;
      }
      Thread.sleep(100);
    } while (System.currentTimeMillis() < deadline);
    return last;
  }

  private static String generation(PosternTestServer s) {
    return org.postern.config.ConfigHolder.of(s.vertx()).current().generation();
  }
}
