package org.postern.auth;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postern.testing.Await;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient;
import org.postern.testing.SmtpTestClient.Reply;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.auth.AuthTesting.assertReply;
import static org.postern.auth.AuthTesting.b64;
import static org.postern.auth.AuthTesting.plain;
import static org.postern.auth.AuthTesting.secret;
import static org.postern.auth.AuthTesting.unb64;

/**
 * Passwords never reach a log: after succeeding and failing exchanges of every mechanism and
 * scheme, malformed responses, dropped sessions, over-long lines and server_condition expansions
 * that fail on the password, neither the main log nor any captured server log line contains a
 * password this test (or any AUTH test that ran before it in the JVM) sent, nor the base64 of the
 * credentials.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AuthSecretsTest {
  private static final String ALICE_PW = secret("Secrets-Alice-plain-pw-1f7b");
  private static final String BOB_PW = secret("Secrets-Bob-bcrypt-pw-4ac9");
  private static final String CAROL_PW = secret("Secrets-Carol-scram-pw-e502");
  private static final String DAVE_PW = secret("Secrets-Dave-crammd5-pw-93d6");
  private static final String WRONG_PW = secret("Secrets-Wrong-pw-b81e");
  /** Also an invalid regular expression, for the match{} condition below. */
  private static final String COND_PW = secret("Secrets-Cond-pw-[(-6d0c");
  /** A user name that only this test uses, to find its own failure lines. */
  private static final String PROBE_USER = "secrets-probe-" + UUID.randomUUID().toString().substring(0, 8);

  private static PosternTestServer server;
  /** server_condition expansions that fail at run time on the password itself. */
  private static PosternTestServer conditions;
  /** base64 forms of credentials sent here: just as secret as the passwords. */
  private static final Set<String> encoded = new TreeSet<>();

  @BeforeAll
  static void start() throws Exception {
    server = PosternTestServer.create()
        .users("admin:", "alice:{PLAIN}" + ALICE_PW, "bob:" + PasswordSchemes.create("BLF-CRYPT", BOB_PW),
            "carol:" + PasswordSchemes.create("SCRAM-SHA-256", CAROL_PW),
            "dave:" + PasswordSchemes.create("CRAM-MD5", DAVE_PW))
        .option("smtp_auth_failure_delay", "0s")
        .option("auth_failures_per_host", "0")
        .option("authenticators", AuthTesting.WITH_CRAM_MD5)
        .start();
    conditions = PosternTestServer.create()
        .users("admin:", "alice:{PLAIN}" + COND_PW)
        .option("smtp_auth_failure_delay", "0s")
        .option("auth_failures_per_host", "0")
        .option("authenticators", "{ plain: { driver: plaintext, public_name: PLAIN, "
            + "server_condition: \"${if ={$auth3}{1}{yes}{no}}\" }, "
            + "login: { driver: plaintext, public_name: LOGIN, server_condition: \"${if match{$auth1}{$auth2}{yes}{no}}\" } }")
        .start();
  }

  @AfterAll
  static void stop() throws Exception {
    PosternTestServer.closeAll(server, conditions);
  }

  private static SmtpTestClient ehloed(PosternTestServer s) throws IOException {
    SmtpTestClient c = SmtpTestClient.connect(s.port());
    assertEquals(220, c.reply().code());
    assertEquals(250, c.command("EHLO client.test.example").code());
    return c;
  }

  private static String remember(String base64) {
    encoded.add(base64);
    return base64;
  }

  private static Reply plainAuth(PosternTestServer s, String credentials) throws IOException {
    try (SmtpTestClient c = ehloed(s)) {
      return c.command("AUTH PLAIN " + remember(credentials));
    }
  }

  private static Reply loginAuth(PosternTestServer s, String user, String password) throws IOException {
    try (SmtpTestClient c = ehloed(s)) {
      assertEquals(334, c.command("AUTH LOGIN " + b64(user)).code());
      return c.command(remember(b64(password)));
    }
  }

  private static Reply cramAuth(String user, String password) throws Exception {
    try (SmtpTestClient c = ehloed(server)) {
      Reply challenge = c.command("AUTH CRAM-MD5");
      assertEquals(334, challenge.code(), challenge.toString());
      Mac mac = Mac.getInstance("HmacMD5");
      mac.init(new SecretKeySpec(password.getBytes(StandardCharsets.UTF_8), "HmacMD5"));
      String digest = HexFormat.of().formatHex(mac.doFinal(unb64(challenge.text()).getBytes(StandardCharsets.UTF_8)));
      return c.command(b64(user + " " + digest));
    }
  }

  private static Reply scramAuth(String user, String password) throws Exception {
    try (SmtpTestClient c = ehloed(server)) {
      AuthScramClient scram = AuthScramClient.random(user, password);
      Reply first = c.command("AUTH SCRAM-SHA-256 " + b64(scram.clientFirst()));
      assertEquals(334, first.code(), first.toString());
      Reply fin = c.command(b64(scram.clientFinal(unb64(first.text()))));
      if (fin.code() != 334) {
        return fin;
      }
      scram.verifyServerFinal(unb64(fin.text()));
      return c.command("");
    }
  }

  /** Every success and failure path the test can reach, each asserted. */
  private static void exercise() throws Exception {
    // PLAIN: right, wrong, unknown user, malformed (one NUL, empty user, extra NUL), foreign authzid.
    assertReply(235, "2.7.0", plainAuth(server, plain("alice", ALICE_PW)));
    assertReply(235, "2.7.0", plainAuth(server, plain("bob", BOB_PW)));
    assertReply(535, "5.7.8", plainAuth(server, plain("alice", WRONG_PW)));
    assertReply(535, "5.7.8", plainAuth(server, plain("bob", WRONG_PW)));
    assertReply(535, "5.7.8", plainAuth(server, plain(PROBE_USER, WRONG_PW)));
    assertReply(535, "5.7.8", plainAuth(server, b64("alice\0" + WRONG_PW)));
    assertReply(535, "5.7.8", plainAuth(server, b64("\0\0" + WRONG_PW)));
    assertReply(535, "5.7.8", plainAuth(server, b64("\0alice\0" + ALICE_PW + "\0" + WRONG_PW)));
    assertReply(535, "5.7.8", plainAuth(server, plain("bob", "alice", ALICE_PW)));
    // LOGIN.
    assertReply(235, "2.7.0", loginAuth(server, "bob", BOB_PW));
    assertReply(535, "5.7.8", loginAuth(server, "bob", WRONG_PW));
    assertReply(535, "5.7.8", loginAuth(server, PROBE_USER, WRONG_PW));
    // CRAM-MD5: stored CRAM-MD5 context, PLAIN, wrong, and a bcrypt user (no usable secret).
    assertReply(235, "2.7.0", cramAuth("dave", DAVE_PW));
    assertReply(235, "2.7.0", cramAuth("alice", ALICE_PW));
    assertReply(535, "5.7.8", cramAuth("dave", WRONG_PW));
    assertReply(535, "5.7.8", cramAuth("bob", BOB_PW));
    // SCRAM-SHA-256.
    assertReply(235, "2.7.0", scramAuth("carol", CAROL_PW));
    assertReply(535, "5.7.8", scramAuth("carol", WRONG_PW));
    assertReply(535, "5.7.8", scramAuth(PROBE_USER, WRONG_PW));

    // Too many failures: the session is dropped (logged).
    try (SmtpTestClient c = ehloed(server)) {
      assertReply(535, "5.7.8", c.command("AUTH PLAIN " + remember(plain(PROBE_USER, WRONG_PW + "1"))));
      assertReply(535, "5.7.8", c.command("AUTH PLAIN " + remember(plain(PROBE_USER, WRONG_PW + "2"))));
      assertReply(421, "4.7.0", c.command("AUTH PLAIN " + remember(plain(PROBE_USER, WRONG_PW + "3"))));
    }
    // Passwords sent raw instead of base64, until the protocol-error limit drops the session (logged).
    try (SmtpTestClient c = ehloed(server)) {
      for (int i = 0; i < 3; i++) {
        assertReply(501, "5.5.2", c.command("AUTH PLAIN " + ALICE_PW));
      }
      assertEquals(421, c.command("AUTH PLAIN " + ALICE_PW).code());
    }
    // An over-long exchange line made of a password, and a session dropped in mid-exchange.
    try (SmtpTestClient c = ehloed(server)) {
      assertEquals(334, c.command("AUTH PLAIN").code());
      assertReply(500, "5.5.6", c.command(ALICE_PW.repeat(12289 / ALICE_PW.length() + 1)));
      assertEquals(334, c.command("AUTH LOGIN").code());
      assertEquals(334, c.command(b64("alice")).code());
      c.send(remember(b64(ALICE_PW)).substring(0, 10));
    }

    // server_condition failing on the password: 535, and an error in the server log.
    assertReply(535, "5.7.8", plainAuth(conditions, plain("alice", COND_PW)));
    assertReply(535, "5.7.8", loginAuth(conditions, "alice", COND_PW));
  }

  @Test
  void noPasswordReachesAnyLog() throws Exception {
    exercise();

    // Controls: the logs this test searches do hold its failures and the condition errors.
    assertTrue(AuthTesting.awaitMainlog(5000, "authenticator failed", "set_id=" + PROBE_USER).isPresent(),
        "no failure line for " + PROBE_USER + " in " + AuthTesting.MAINLOG);
    assertTrue(AuthTesting.awaitMainlog(5000, "too many failures, connection dropped").isPresent());
    List<String> conditionErrors = Await.value(5000,
        () -> AuthTesting.CAPTURED.stream().filter(l -> l.contains("server_condition")).toList(),
        l -> l.size() >= 2);
    assertTrue(conditionErrors.size() >= 2, "server_condition errors not captured: " + conditionErrors);
    assertTrue(AuthTesting.CAPTURED.stream().anyMatch(l -> l.contains("set_id=" + PROBE_USER)),
        "main log lines are not captured");
    assertTrue(AuthTesting.SECRETS.containsAll(List.of(ALICE_PW, BOB_PW, CAROL_PW, DAVE_PW, WRONG_PW, COND_PW)));
    assertTrue(encoded.size() >= 15, "encoded credentials: " + encoded.size());
    AuthTesting.assertNoSecretsLogged(encoded);
  }
}
