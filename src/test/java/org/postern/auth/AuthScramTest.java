package org.postern.auth;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient.Reply;
import org.postern.testing.TestPki;

import javax.net.ssl.SSLContext;
import java.security.GeneralSecurityException;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.auth.AuthTesting.assertReply;
import static org.postern.auth.AuthTesting.b64;
import static org.postern.auth.AuthTesting.secret;
import static org.postern.auth.AuthTesting.unb64;

/**
 * SCRAM-SHA-256 end to end with a client written from RFC 5802/7677 ({@link AuthScramClient}),
 * first checked against RFC 7677's test vector, then against the server over STARTTLS from a host
 * that is not a relay host: the server-final arrives as a 334, the client checks the server
 * signature, answers with an empty line and gets 235.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class AuthScramTest {
  private static final String OUTSIDER = "127.0.0.2";
  private static final String CAROL_PW = secret("Scram-Carol-pw-5d1e");
  private static final String ALICE_PW = secret("Scram-Alice-pw-90ab");
  private static final String WRONG_PW = secret("Scram-Wrong-pw-77c3");

  private static final String BOB_PW = secret("Scram-Bob-bcrypt-pw-7d21");

  private static PosternTestServer server;
  private static SSLContext tls;

  @BeforeAll
  static void start() throws Exception {
    tls = TestPki.shared().clientContext();
    server = AuthTesting.tlsServer()
        .users("admin:", "alice:{PLAIN}" + ALICE_PW, "carol:" + PasswordSchemes.create("SCRAM-SHA-256", CAROL_PW),
            "bob:{BLF-CRYPT}" + PasswordSchemes.bcrypt(BOB_PW.getBytes(java.nio.charset.StandardCharsets.UTF_8), 4))
        .option("smtp_auth_failure_delay", "0s")
        .option("auth_failures_per_host", "0")
        .start();
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
    // No password this class sent, right or wrong, reached a log.
    AuthTesting.assertNoSecretsLogged(java.util.Set.of());
  }

  // ---------------------------------------------------------------------------------------------
  // The client against RFC 7677 section 3

  @Test
  void clientReproducesRfc7677TestVector() throws Exception {
    AuthScramClient c = new AuthScramClient("user", "pencil", "rOprNGfwEbeRWgbNEkqO");
    assertEquals("n,,n=user,r=rOprNGfwEbeRWgbNEkqO", c.clientFirst());
    String serverFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    assertEquals("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
        + "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", c.clientFinal(serverFirst));
    assertEquals("6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", c.expectedServerSignature());
    c.verifyServerFinal("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
  }

  @Test
  void clientRejectsWrongServerSignatureServerErrorAndForeignNonce() throws Exception {
    AuthScramClient c = new AuthScramClient("user", "pencil", "rOprNGfwEbeRWgbNEkqO");
    c.clientFirst();
    c.clientFinal("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
    // One bit off in the signature (in the first byte: the last base64 digit carries padding bits),
    // an e= error, and no v= at all.
    assertThrows(GeneralSecurityException.class,
        () -> c.verifyServerFinal("v=6rrjTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="));
    assertThrows(GeneralSecurityException.class, () -> c.verifyServerFinal("e=invalid-proof"));
    assertThrows(GeneralSecurityException.class, () -> c.verifyServerFinal("x=1"));
    AuthScramClient d = new AuthScramClient("user", "pencil", "rOprNGfwEbeRWgbNEkqO");
    d.clientFirst();
    assertThrows(GeneralSecurityException.class,
        () -> d.clientFinal("r=someoneElsesNonce,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"));
  }

  // ---------------------------------------------------------------------------------------------
  // Against the server

  /** STARTTLS from the outsider address; asserts SCRAM-SHA-256 is offered only after TLS. */
  private static AuthSmtpClient openTls() throws Exception {
    AuthSmtpClient c = AuthSmtpClient.connect(OUTSIDER, server.port());
    Reply clear = c.ehlo("client.test.example");
    assertEquals(null, AuthSmtpClient.authLine(clear), "AUTH must not be offered in clear to 127.0.0.2: " + clear);
    Reply ehlo = c.startTlsAndEhlo(tls);
    String auth = AuthSmtpClient.authLine(ehlo);
    assertTrue(auth != null && auth.contains(" SCRAM-SHA-256"), "SCRAM-SHA-256 must be offered after TLS: " + ehlo);
    return c;
  }

  /**
   * A whole SCRAM exchange (initial response or not); returns the final reply, after verifying the
   * server signature and sending the empty line when the server sends its server-final.
   */
  private static Reply scram(AuthSmtpClient c, AuthScramClient client, boolean initialResponse) throws Exception {
    Reply first;
    if (initialResponse) {
      first = c.command("AUTH SCRAM-SHA-256 " + b64(client.clientFirst()));
    } else {
      Reply empty = c.command("AUTH SCRAM-SHA-256");
      assertEquals(334, empty.code(), empty.toString());
      assertEquals("", empty.text(), "an empty challenge asks for the client-first message: " + empty);
      first = c.command(b64(client.clientFirst()));
    }
    assertEquals(334, first.code(), "server-first expected: " + first);
    String serverFirst = unb64(first.text());
    Reply second = c.command(b64(client.clientFinal(serverFirst)));
    if (second.code() != 334) {
      return second;
    }
    String serverFinal = unb64(second.text());
    client.verifyServerFinal(serverFinal);
    assertEquals("v=" + client.expectedServerSignature(), serverFinal);
    return c.command("");
  }

  private static void assertRelayedAs(AuthSmtpClient c, String authenticatorAndId) throws Exception {
    String id = c.sendMessage("sender@client.test.example", "x@remote.example", "scram " + UUID.randomUUID());
    String line = AuthTesting.arrivalLine(id);
    assertTrue(line.contains(" P=esmtpsa "), line);
    assertTrue(line.contains(" A=" + authenticatorAndId), line);
  }

  @Test
  void scramUserAuthenticatesOverStartTlsAndMayRelay() throws Exception {
    try (AuthSmtpClient c = openTls()) {
      assertReply(235, "2.7.0", scram(c, AuthScramClient.random("carol", CAROL_PW), true));
      assertRelayedAs(c, "scram:carol");
    }
  }

  @Test
  void plainStoredUserAuthenticatesWithScramToo() throws Exception {
    try (AuthSmtpClient c = openTls()) {
      assertReply(235, "2.7.0", scram(c, AuthScramClient.random("alice", ALICE_PW), true));
      assertRelayedAs(c, "scram:alice");
    }
  }

  @Test
  void scramWithoutInitialResponse() throws Exception {
    try (AuthSmtpClient c = openTls()) {
      assertReply(235, "2.7.0", scram(c, AuthScramClient.random("carol", CAROL_PW), false));
    }
  }

  @Test
  void wrongPasswordGets535AndNoRelay() throws Exception {
    for (String user : new String[] {"carol", "alice"}) {
      try (AuthSmtpClient c = openTls()) {
        assertReply(535, "5.7.8", scram(c, AuthScramClient.random(user, WRONG_PW), true));
        // Not authenticated: relaying is still refused, and AUTH may be tried again (not 503).
        assertReply(250, "2.1.0", c.command("MAIL FROM:<sender@client.test.example>"));
        assertReply(550, "5.7.1", c.command("RCPT TO:<x@remote.example>"));
        assertReply(250, "2.0.0", c.command("RSET"));
        assertReply(235, "2.7.0", scram(c, AuthScramClient.random(user, user.equals("carol") ? CAROL_PW : ALICE_PW),
            true));
      }
    }
  }

  @Test
  void unknownUserGetsAServerFirstAndThen535() throws Exception {
    try (AuthSmtpClient c = openTls()) {
      AuthScramClient client = AuthScramClient.random("nobody-here", WRONG_PW);
      Reply first = c.command("AUTH SCRAM-SHA-256 " + b64(client.clientFirst()));
      // The user is not revealed at the first step.
      assertEquals(334, first.code(), first.toString());
      assertReply(535, "5.7.8", c.command(b64(client.clientFinal(unb64(first.text())))));
    }
  }

  @Test
  void dataInsteadOfTheEmptyLineAfterServerFinalFails() throws Exception {
    try (AuthSmtpClient c = openTls()) {
      AuthScramClient client = AuthScramClient.random("carol", CAROL_PW);
      Reply first = c.command("AUTH SCRAM-SHA-256 " + b64(client.clientFirst()));
      Reply fin = c.command(b64(client.clientFinal(unb64(first.text()))));
      assertEquals(334, fin.code(), fin.toString());
      client.verifyServerFinal(unb64(fin.text()));
      assertReply(535, "5.7.8", c.command(b64("unexpected")));
      assertReply(250, "2.1.0", c.command("MAIL FROM:<sender@client.test.example>"));
      assertReply(550, "5.7.1", c.command("RCPT TO:<x@remote.example>"));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Authorization identity (issue 11: SCRAM ignored one that PLAIN refused)

  @Test
  void anAuthzidOtherThanTheUserIsRefusedAsInPlain() throws Exception {
    try (AuthSmtpClient c = openTls()) {
      // The right password for carol, asking to act as alice: refused without a server_condition.
      assertReply(535, "5.7.8", scram(c, AuthScramClient.random("carol", CAROL_PW).authzid("alice"), true));
      assertReply(250, "2.1.0", c.command("MAIL FROM:<sender@client.test.example>"));
      assertReply(550, "5.7.1", c.command("RCPT TO:<x@remote.example>"));
      assertReply(250, "2.0.0", c.command("RSET"));
      // PLAIN, the same request, the same answer.
      assertReply(535, "5.7.8", c.command("AUTH PLAIN " + AuthTesting.plain("alice", "carol", CAROL_PW)));
      // Naming oneself as authzid is allowed (RFC 5802: the authzid may equal the user).
      assertReply(235, "2.7.0", scram(c, AuthScramClient.random("carol", CAROL_PW).authzid("carol"), true));
      assertRelayedAs(c, "scram:carol");
    }
    assertTrue(AuthTesting.awaitMainlog(5000, "scram authenticator failed", "set_id=carol",
        "authorization identity differs from the user").isPresent(), "no log line for the refused authzid");
  }

  // ---------------------------------------------------------------------------------------------
  // A stored scheme SCRAM cannot use

  @Test
  void bcryptUserGetsAnUncounted535ThatSaysWhyInTheLog() throws Exception {
    try (AuthSmtpClient c = openTls()) {
      // More attempts than smtp_max_auth_failures (3): none of them counts, the session stays.
      for (int i = 0; i < 4; i++) {
        assertReply(535, "5.7.8", scram(c, AuthScramClient.random("bob", BOB_PW), true));
      }
      // The mechanism that can check bcrypt still works in the same session.
      assertReply(235, "2.7.0", c.command("AUTH PLAIN " + AuthTesting.plain("bob", BOB_PW)));
    }
    String line = AuthTesting.awaitMainlog(5000, "scram authenticator failed", "set_id=bob",
        "SCRAM-SHA-256 cannot use the stored scheme {BLF-CRYPT}", "(not counted as a failure)")
        .orElseThrow(() -> new AssertionError("no log line saying why SCRAM failed for bob"));
    assertTrue(line.contains(": 535 5.7.8 Authentication credentials invalid"), line);
  }
}
