package org.postern.auth;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.postern.bus.Addresses;
import org.postern.config.ConfigException;
import org.postern.config.ConfigLoader;
import org.postern.testing.PosternTestServer;
import org.postern.testing.PublishedEvents;
import org.postern.testing.SmtpTestClient;
import org.postern.testing.SmtpTestClient.Reply;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.auth.AuthTesting.assertReply;
import static org.postern.auth.AuthTesting.b64;
import static org.postern.auth.AuthTesting.plain;
import static org.postern.auth.AuthTesting.secret;
import static org.postern.auth.AuthTesting.unb64;

/**
 * Authenticator options ({@code server_condition}, {@code server_set_id} with Exim expansions),
 * their checking at load time, and conf/passwd changes picked up by a running server.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class AuthConfigTest {
  private static final Pattern ID = Pattern.compile("id=(\\S+)");
  private static final String ALICE_PW = secret("Config-Alice-pw-8c21");
  private static final String BOB_PW = secret("Config-Bob-pw-f6a0");
  private static final String DAVE_PW = secret("Config-Dave-pw-2b5d");
  private static final String ERIN_PW = secret("Config-Erin-scram-pw-71e4");

  /** One PLAIN authenticator: only alice may authenticate, and her id is upper-cased. */
  private static PosternTestServer conditional;
  /** Default authenticators; conf/passwd is rewritten by the hot-reload test. */
  private static PosternTestServer reloading;

  @BeforeAll
  static void start() throws Exception {
    conditional = PosternTestServer.create()
        .users("admin:", "alice:{PLAIN}" + ALICE_PW, "bob:{PLAIN}" + BOB_PW)
        .option("smtp_auth_failure_delay", "0s")
        .option("auth_failures_per_host", "0")
        .option("authenticators", "{ plain: { driver: plaintext, public_name: PLAIN, server_set_id: \"${uc:$auth2}\", "
            + "server_condition: \"${if eq{$auth2}{alice}{yes}{no}}\" } }")
        .start();
    reloading = PosternTestServer.create()
        .users("admin:", "alice:{PLAIN}" + ALICE_PW)
        .option("smtp_auth_failure_delay", "0s")
        .option("auth_failures_per_host", "0")
        .start();
  }

  @AfterAll
  static void stop() throws Exception {
    PosternTestServer.closeAll(conditional, reloading);
    // No password this class sent, right or wrong, reached a log.
    AuthTesting.assertNoSecretsLogged(java.util.Set.of());
  }

  private static SmtpTestClient ehloed(PosternTestServer s) throws IOException {
    SmtpTestClient c = SmtpTestClient.connect(s.port());
    assertEquals(220, c.reply().code());
    assertEquals(250, c.command("EHLO client.test.example").code());
    return c;
  }

  /** MAIL/RCPT/DATA of a small message; returns the queue id. */
  private static String send(SmtpTestClient c) throws IOException {
    assertReply(250, "2.1.0", c.command("MAIL FROM:<sender@client.test.example>"));
    assertEquals(250, c.command("RCPT TO:<x@remote.example>").code());
    assertEquals(354, c.command("DATA").code());
    Reply done = c.command("Subject: " + UUID.randomUUID() + "\r\n\r\nbody\r\n.");
    assertEquals(250, done.code(), done.toString());
    Matcher m = ID.matcher(done.text());
    assertTrue(m.find(), done.toString());
    return m.group(1);
  }

  // ---------------------------------------------------------------------------------------------
  // server_condition / server_set_id

  @Test
  void serverConditionAdmitsAliceAndServerSetIdNamesHer() throws Exception {
    try (SmtpTestClient c = ehloed(conditional)) {
      Reply ehlo = c.command("EHLO client.test.example");
      assertTrue(ehlo.lines().contains("AUTH PLAIN"), "only the configured authenticator is offered: " + ehlo);
      assertReply(235, "2.7.0", c.command("AUTH PLAIN " + plain("alice", ALICE_PW)));
      String line = AuthTesting.arrivalLine(send(c));
      assertTrue(line.contains(" P=esmtpa A=plain:ALICE "), line);
    }
  }

  @Test
  void serverConditionRefusesBobDespiteHisRightPassword() throws Exception {
    try (SmtpTestClient c = ehloed(conditional)) {
      assertReply(535, "5.7.8", c.command("AUTH PLAIN " + plain("bob", BOB_PW)));
      // The refusal did not authenticate (else 503), and alice still gets in.
      assertReply(235, "2.7.0", c.command("AUTH PLAIN " + plain("alice", ALICE_PW)));
    }
    try (SmtpTestClient c = ehloed(conditional)) {
      // Wrong password for alice: the condition is not even reached.
      assertReply(535, "5.7.8", c.command("AUTH PLAIN " + plain("alice", BOB_PW)));
    }
  }

  @Test
  void withServerConditionTheAuthzidIsLeftToTheCondition() throws Exception {
    // Documented: an authzid other than the user is refused unless server_condition is set; then
    // the condition decides, and $authenticated_id is what server_set_id makes of it, not the authzid.
    try (SmtpTestClient c = ehloed(conditional)) {
      assertReply(235, "2.7.0", c.command("AUTH PLAIN " + plain("bob", "alice", ALICE_PW)));
      String line = AuthTesting.arrivalLine(send(c));
      assertTrue(line.contains(" A=plain:ALICE "), line);
    }
  }

  @Test
  void unconfiguredMechanismsAreNotServed() throws Exception {
    try (SmtpTestClient c = ehloed(conditional)) {
      assertReply(504, "5.5.4", c.command("AUTH LOGIN"));
      assertReply(504, "5.5.4", c.command("AUTH CRAM-MD5"));
      assertReply(504, "5.5.4", c.command("AUTH SCRAM-SHA-256"));
    }
  }

  @Test
  void serverConditionWithSyntaxErrorIsRefusedAtLoad(@TempDir Path dir) throws Exception {
    Files.copy(Path.of("conf", "acl.yaml"), dir.resolve("acl.yaml"));
    Files.writeString(dir.resolve("passwd"), "alice:{PLAIN}x\n", StandardCharsets.UTF_8);
    Path config = dir.resolve("postern.yaml");
    // Line 6: the closing brace of ${if ...} is missing.
    Files.writeString(config, String.join("\n",
        "primary_hostname: mx.test.example",
        "authenticators:",
        "  plain:",
        "    driver: plaintext",
        "    public_name: PLAIN",
        "    server_condition: \"${if eq{$auth2}{alice}{yes}{no}\"",
        "    server_set_id: \"$auth2\"",
        ""), StandardCharsets.UTF_8);
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(config));
    assertEquals(6, e.line(), e.getMessage());
    assertTrue(e.option() != null && e.option().endsWith("server_condition"), e.getMessage());
    assertTrue(e.getMessage().contains("postern.yaml:6:"), e.getMessage());

    // The control: the same file with the brace is loaded.
    Files.writeString(config, Files.readString(config).replace("{no}\"", "{no}}\""), StandardCharsets.UTF_8);
    assertEquals(1, ConfigLoader.load(config).auth().authenticators().size());
  }

  @Test
  void unknownVariableInServerSetIdIsRefusedAtLoad(@TempDir Path dir) throws Exception {
    Files.copy(Path.of("conf", "acl.yaml"), dir.resolve("acl.yaml"));
    Path config = dir.resolve("postern.yaml");
    Files.writeString(config, String.join("\n",
        "primary_hostname: mx.test.example",
        "authenticators:",
        "  plain: { driver: plaintext, public_name: PLAIN, server_set_id: \"$auth_id\" }",
        ""), StandardCharsets.UTF_8);
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(config));
    assertEquals(3, e.line(), e.getMessage());
    assertTrue(e.option() != null && e.option().endsWith("server_set_id"), e.getMessage());
  }

  // ---------------------------------------------------------------------------------------------
  // conf/passwd hot reload

  private static Reply authInFreshSession(String credentials) throws IOException {
    try (SmtpTestClient c = ehloed(reloading)) {
      return c.command("AUTH PLAIN " + credentials);
    }
  }

  /**
   * Writes conf/passwd and waits for {@code postern.config.changed} naming the generation that holds
   * it (a scan may catch the file half written, and publish a generation of its own first).
   */
  private static void changePasswd(Path passwd, String text, long millis) throws Exception {
    try (PublishedEvents changed = PublishedEvents.on(reloading.vertx(), Addresses.CONFIG_CHANGED)) {
      Files.writeString(passwd, text, StandardCharsets.UTF_8);
      String generation = ConfigLoader.load(reloading.confDir().resolve("postern.yaml")).generation();
      changed.await(millis, e -> generation.equals(e.getString("generation")));
    }
  }

  @Test
  void passwdChangesApplyToAuthWithinSeconds() throws Exception {
    Path passwd = reloading.confDir().resolve("passwd");
    String original = Files.readString(passwd, StandardCharsets.UTF_8);
    assertReply(535, "5.7.8", authInFreshSession(plain("dave", DAVE_PW)));

    long changed = System.currentTimeMillis();
    changePasswd(passwd, original + "dave:{PLAIN}" + DAVE_PW + "\n"
        + "erin:" + PasswordSchemes.create("SCRAM-SHA-256", ERIN_PW) + "\n", 3000);
    assertReply(235, "2.7.0", authInFreshSession(plain("dave", DAVE_PW)));
    assertTrue(System.currentTimeMillis() - changed <= 3500, "took " + (System.currentTimeMillis() - changed) + " ms");

    // The SCRAM entry added with it works too (challenge-response mechanisms read the same users).
    try (SmtpTestClient c = ehloed(reloading)) {
      AuthScramClient scram = AuthScramClient.random("erin", ERIN_PW);
      Reply first = c.command("AUTH SCRAM-SHA-256 " + b64(scram.clientFirst()));
      assertEquals(334, first.code(), first.toString());
      Reply fin = c.command(b64(scram.clientFinal(unb64(first.text()))));
      assertEquals(334, fin.code(), fin.toString());
      scram.verifyServerFinal(unb64(fin.text()));
      assertReply(235, "2.7.0", c.command(""));
    }

    // Removing the user revokes it just as fast.
    changePasswd(passwd, original, 3000);
    assertReply(535, "5.7.8", authInFreshSession(plain("dave", DAVE_PW)));
    assertReply(235, "2.7.0", authInFreshSession(plain("alice", ALICE_PW)));
  }
}
