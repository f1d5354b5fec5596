package org.postern.auth;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient;
import org.postern.testing.SmtpTestClient.Reply;
import org.postern.testing.TestPki;

import javax.net.ssl.SSLContext;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.auth.AuthTesting.assertReply;
import static org.postern.auth.AuthTesting.b64;
import static org.postern.auth.AuthTesting.plain;
import static org.postern.auth.AuthTesting.secret;
import static org.postern.auth.AuthTesting.unb64;

/**
 * The AUTH command's replies (RFC 4954) with a raw client: sequencing, mechanisms, cancellation,
 * base64, the 12288-octet exchange lines, the clear-text policy (AUTH in clear only for relay
 * hosts unless auth_advertise_hosts says otherwise), STARTTLS after AUTH and MAIL's AUTH= parameter.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class AuthProtocolTest {
  private static final String OUTSIDER = "127.0.0.2";
  private static final String ALICE_PW = secret("Protocol-Alice-pw-4b7e");
  private static final String WRONG_PW = secret("Protocol-Wrong-pw-a0d5");

  /** STARTTLS available (test PKI); AUTH in clear only to relay_from_hosts (127.0.0.1); CRAM-MD5 on. */
  private static PosternTestServer server;
  /** auth_advertise_hosts: "*": AUTH in clear to anyone. */
  private static PosternTestServer advertiseAll;
  private static SSLContext tls;

  @BeforeAll
  static void start() throws Exception {
    tls = TestPki.shared().clientContext();
    server = AuthTesting.tlsServer()
        .users("admin:", "alice:{PLAIN}" + ALICE_PW, "bob:{PLAIN}" + ALICE_PW + "-bob")
        .option("smtp_auth_failure_delay", "0s")
        .option("auth_failures_per_host", "0")
        .option("authenticators", AuthTesting.WITH_CRAM_MD5)
        .start();
    advertiseAll = PosternTestServer.create()
        .users("admin:", "alice:{PLAIN}" + ALICE_PW)
        .option("smtp_auth_failure_delay", "0s")
        .option("auth_failures_per_host", "0")
        .option("auth_advertise_hosts", "\"*\"")
        .start();
  }

  @AfterAll
  static void stop() throws Exception {
    PosternTestServer.closeAll(server, advertiseAll);
    // No password this class sent, right or wrong, reached a log.
    AuthTesting.assertNoSecretsLogged(java.util.Set.of());
  }

  /** A session from 127.0.0.1 (a relay host: AUTH allowed in clear) after EHLO. */
  private static SmtpTestClient ehloed() throws IOException {
    SmtpTestClient c = SmtpTestClient.connect(server.port());
    assertEquals(220, c.reply().code());
    Reply ehlo = c.command("EHLO client.test.example");
    assertEquals(250, ehlo.code(), ehlo.toString());
    return c;
  }

  private static void assertAuthenticates(SmtpTestClient c) throws IOException {
    assertReply(235, "2.7.0", c.command("AUTH PLAIN " + plain("alice", ALICE_PW)));
  }

  // ---------------------------------------------------------------------------------------------
  // Sequencing

  @Test
  void relayHostIsOfferedEveryMechanismInClear() throws Exception {
    try (SmtpTestClient c = SmtpTestClient.connect(server.port())) {
      c.reply();
      Reply ehlo = c.command("EHLO client.test.example");
      assertTrue(ehlo.lines().contains(AuthTesting.ALL_MECHANISMS), ehlo.toString());
      assertTrue(ehlo.lines().contains("STARTTLS"), ehlo.toString());
    }
  }

  @Test
  void authTwiceIs503() throws Exception {
    try (SmtpTestClient c = ehloed()) {
      assertAuthenticates(c);
      assertReply(503, "5.5.1", c.command("AUTH PLAIN " + plain("alice", ALICE_PW)));
      assertReply(503, "5.5.1", c.command("AUTH LOGIN"));
      // The EHLO of an authenticated session no longer offers AUTH.
      Reply ehlo = c.command("EHLO client.test.example");
      assertNull(AuthSmtpClient.authLine(ehlo), ehlo.toString());
    }
  }

  @Test
  void authInsideATransactionIs503() throws Exception {
    try (SmtpTestClient c = ehloed()) {
      assertReply(250, "2.1.0", c.command("MAIL FROM:<sender@client.test.example>"));
      assertReply(503, "5.5.1", c.command("AUTH PLAIN " + plain("alice", ALICE_PW)));
      assertReply(503, "5.5.1", c.command("AUTH PLAIN"));
      assertReply(250, "2.0.0", c.command("RSET"));
      assertAuthenticates(c);
    }
  }

  @Test
  void authBeforeEhloIs503() throws Exception {
    try (SmtpTestClient c = SmtpTestClient.connect(server.port())) {
      c.reply();
      assertReply(503, "5.5.1", c.command("AUTH PLAIN " + plain("alice", ALICE_PW)));
      assertEquals(250, c.command("HELO client.test.example").code());
      assertReply(503, "5.5.1", c.command("AUTH PLAIN " + plain("alice", ALICE_PW)));
      assertEquals(250, c.command("EHLO client.test.example").code());
      assertAuthenticates(c);
    }
  }

  @Test
  void unknownOrMissingMechanism() throws Exception {
    try (SmtpTestClient c = ehloed()) {
      assertReply(504, "5.5.4", c.command("AUTH FOO"));
      assertReply(504, "5.5.4", c.command("AUTH DIGEST-MD5 " + b64("x")));
      assertReply(504, "5.5.4", c.command("AUTH SCRAM-SHA-256-PLUS"));
      assertReply(501, "5.5.4", c.command("AUTH"));
      // Mechanism names are caseless.
      assertReply(235, "2.7.0", c.command("AUTH plain " + plain("alice", ALICE_PW)));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Exchange lines

  @Test
  void cancelWithStarIs501AndEndsTheExchange() throws Exception {
    try (SmtpTestClient c = ehloed()) {
      Reply r = c.command("AUTH PLAIN");
      assertEquals(334, r.code(), r.toString());
      assertReply(501, "5.0.0", c.command("*"));
      // Back to commands: NOOP is a command again, not a SASL response.
      assertReply(250, "2.0.0", c.command("NOOP"));
      assertEquals(334, c.command("AUTH LOGIN " + b64("alice")).code());
      assertReply(501, "5.0.0", c.command("*"));
      assertAuthenticates(c);
    }
  }

  @Test
  void badBase64InitialResponseIs501() throws Exception {
    try (SmtpTestClient c = ehloed()) {
      assertReply(501, "5.5.2", c.command("AUTH PLAIN !!!not-base64!!!"));
      assertReply(501, "5.5.2", c.command("AUTH LOGIN YWxp*2U="));
      assertAuthenticates(c);
    }
  }

  @Test
  void badBase64ResponseIs501() throws Exception {
    try (SmtpTestClient c = ehloed()) {
      assertEquals(334, c.command("AUTH PLAIN").code());
      assertReply(501, "5.5.2", c.command("!!!not-base64!!!"));
      assertReply(250, "2.0.0", c.command("NOOP"));
      assertEquals(334, c.command("AUTH LOGIN").code());
      assertEquals(334, c.command(b64("alice")).code());
      assertReply(501, "5.5.2", c.command("%%%"));
      assertAuthenticates(c);
    }
  }

  @Test
  void emptyInitialResponseIs535() throws Exception {
    try (SmtpTestClient c = ehloed()) {
      assertReply(535, "5.7.8", c.command("AUTH PLAIN ="));
      assertAuthenticates(c);
    }
  }

  @Test
  void plainWithAnotherAuthorizationIdentityIs535() throws Exception {
    try (SmtpTestClient c = ehloed()) {
      // bob's own password would not matter: alice's credentials, asking to act as bob.
      assertReply(535, "5.7.8", c.command("AUTH PLAIN " + plain("bob", "alice", ALICE_PW)));
      // The same identity as authzid is fine.
      assertReply(235, "2.7.0", c.command("AUTH PLAIN " + plain("alice", "alice", ALICE_PW)));
    }
  }

  @Test
  void wrongPasswordIs535AndDoesNotAuthenticate() throws Exception {
    try (SmtpTestClient c = ehloed()) {
      assertReply(535, "5.7.8", c.command("AUTH PLAIN " + plain("alice", WRONG_PW)));
      assertReply(535, "5.7.8", c.command("AUTH PLAIN " + plain("nobody", WRONG_PW)));
      // Not 503: the failures did not authenticate the session.
      assertAuthenticates(c);
    }
  }

  @Test
  void loginWithUserNameAsInitialResponse() throws Exception {
    try (SmtpTestClient c = ehloed()) {
      Reply prompt = c.command("AUTH LOGIN " + b64("alice"));
      assertEquals(334, prompt.code(), prompt.toString());
      assertEquals("Password:", unb64(prompt.text()));
      assertReply(235, "2.7.0", c.command(b64(ALICE_PW)));
    }
  }

  @Test
  void loginWithBothPrompts() throws Exception {
    try (SmtpTestClient c = ehloed()) {
      Reply user = c.command("AUTH LOGIN");
      assertEquals(334, user.code(), user.toString());
      assertEquals("Username:", unb64(user.text()));
      Reply pass = c.command(b64("alice"));
      assertEquals(334, pass.code(), pass.toString());
      assertEquals("Password:", unb64(pass.text()));
      assertReply(535, "5.7.8", c.command(b64(WRONG_PW)));
    }
  }

  @Test
  void plainWithoutInitialResponse() throws Exception {
    try (SmtpTestClient c = ehloed()) {
      c.send("AUTH PLAIN\r\n");
      Reply r = c.reply();
      assertEquals(334, r.code(), r.toString());
      assertEquals("", r.text(), "PLAIN asks with an empty challenge: " + r);
      assertReply(235, "2.7.0", c.command(plain("alice", ALICE_PW)));
    }
  }

  @Test
  void emptyChallengeIsExactly334Space() throws Exception {
    // RFC 4954 4: the challenge is "334" SP [base64]: the bytes on the wire, not the parsed reply.
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
      s.setSoTimeout(10_000);
      BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
      OutputStream out = s.getOutputStream();
      assertTrue(in.readLine().startsWith("220 "));
      out.write("EHLO client.test.example\r\n".getBytes(StandardCharsets.US_ASCII));
      String line;
      do {
        line = in.readLine();
      } while (line.startsWith("250-"));
      out.write("AUTH PLAIN\r\n".getBytes(StandardCharsets.US_ASCII));
      assertEquals("334 ", in.readLine());
      out.write((plain("alice", ALICE_PW) + "\r\n").getBytes(StandardCharsets.US_ASCII));
      assertTrue(in.readLine().startsWith("235 2.7.0 "));
    }
  }

  @Test
  void cramMd5ChallengeIsUniqueAndAnsweredWithHmac() throws Exception {
    try (SmtpTestClient c = ehloed()) {
      Reply first = c.command("AUTH CRAM-MD5");
      assertEquals(334, first.code(), first.toString());
      String challenge = unb64(first.text());
      assertTrue(challenge.matches("<\\d+\\.\\d+@mx\\.test\\.example>"), challenge);
      assertReply(501, "5.0.0", c.command("*"));
      Reply second = c.command("AUTH CRAM-MD5");
      String again = unb64(second.text());
      assertTrue(!again.equals(challenge), "challenges must not repeat: " + again);
      // A response to the first (old) challenge is refused; to the current one accepted.
      assertReply(535, "5.7.8", c.command(b64("alice " + hmacMd5(ALICE_PW, challenge))));
      Reply third = c.command("AUTH CRAM-MD5");
      assertReply(235, "2.7.0", c.command(b64("alice " + hmacMd5(ALICE_PW, unb64(third.text())))));
    }
  }

  private static String hmacMd5(String key, String text) throws Exception {
    javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacMD5");
    mac.init(new javax.crypto.spec.SecretKeySpec(key.getBytes(StandardCharsets.UTF_8), "HmacMD5"));
    return java.util.HexFormat.of().formatHex(mac.doFinal(text.getBytes(StandardCharsets.US_ASCII)));
  }

  @Test
  void responseLineOver12288OctetsIs500AndSessionSurvives() throws Exception {
    try (SmtpTestClient c = ehloed()) {
      assertEquals(334, c.command("AUTH PLAIN").code());
      assertReply(500, "5.5.6", c.command("A".repeat(12289)));
      // The exchange is over and the line limit is back: NOOP is a command.
      assertReply(250, "2.0.0", c.command("NOOP"));
      assertAuthenticates(c);
    }
  }

  @Test
  void responseLineOf12000OctetsIsReadAsOneLine() throws Exception {
    try (SmtpTestClient c = ehloed()) {
      // Garbage base64 of 12000 octets: judged as base64 (501 5.5.2), not refused as too long.
      assertEquals(334, c.command("AUTH PLAIN").code());
      assertReply(501, "5.5.2", c.command("!".repeat(12000)));
      // At the limit: 12286 octets and CRLF make 12288.
      assertEquals(334, c.command("AUTH PLAIN").code());
      assertReply(501, "5.5.2", c.command("!".repeat(12286)));
      // Valid base64 of 12000 octets: PLAIN credentials with a very long (wrong) password -> 535.
      assertEquals(334, c.command("AUTH PLAIN").code());
      String longCredentials = plain("alice", "x".repeat(9000 - 7));
      assertEquals(12000, longCredentials.length());
      assertReply(535, "5.7.8", c.command(longCredentials));
      assertReply(250, "2.0.0", c.command("NOOP"));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Clear text and TLS

  @Test
  void nonRelayHostGetsNoAuthInClearAnd538() throws Exception {
    try (AuthSmtpClient c = AuthSmtpClient.connect(OUTSIDER, server.port())) {
      Reply ehlo = c.ehlo("client.test.example");
      assertNull(AuthSmtpClient.authLine(ehlo), "AUTH offered in clear to " + OUTSIDER + ": " + ehlo);
      assertTrue(AuthSmtpClient.keywords(ehlo).contains("STARTTLS"), ehlo.toString());
      assertReply(538, "5.7.11", c.command("AUTH PLAIN " + plain("alice", ALICE_PW)));
      assertReply(538, "5.7.11", c.command("AUTH LOGIN"));
      // Not authenticated: no relaying.
      assertReply(250, "2.1.0", c.command("MAIL FROM:<sender@client.test.example>"));
      assertReply(550, "5.7.1", c.command("RCPT TO:<x@remote.example>"));
    }
  }

  @Test
  void nonRelayHostAuthenticatesAfterStartTlsAndMayRelay() throws Exception {
    try (AuthSmtpClient c = AuthSmtpClient.connect(OUTSIDER, server.port())) {
      c.ehlo("client.test.example");
      Reply ehlo = c.startTlsAndEhlo(tls);
      assertTrue(AuthSmtpClient.keywords(ehlo).contains(AuthTesting.ALL_MECHANISMS), ehlo.toString());
      assertReply(235, "2.7.0", c.command("AUTH PLAIN " + plain("alice", ALICE_PW)));
      assertReply(250, "2.1.0", c.command("MAIL FROM:<sender@client.test.example>"));
      assertReply(250, "2.1.5", c.command("RCPT TO:<x@remote.example>"));
    }
  }

  @Test
  void nonRelayHostWithoutAuthCannotRelayEvenOverTls() throws Exception {
    try (AuthSmtpClient c = AuthSmtpClient.connect(OUTSIDER, server.port())) {
      c.ehlo("client.test.example");
      c.startTlsAndEhlo(tls);
      assertReply(250, "2.1.0", c.command("MAIL FROM:<sender@client.test.example>"));
      assertReply(550, "5.7.1", c.command("RCPT TO:<x@remote.example>"));
      assertReply(250, "2.0.0", c.command("RSET"));
      // A failed AUTH does not help either.
      assertReply(535, "5.7.8", c.command("AUTH PLAIN " + plain("alice", WRONG_PW)));
      assertReply(250, "2.1.0", c.command("MAIL FROM:<sender@client.test.example>"));
      assertReply(550, "5.7.1", c.command("RCPT TO:<x@remote.example>"));
    }
  }

  @Test
  void authAdvertiseHostsStarOffersAuthInClear() throws Exception {
    try (AuthSmtpClient c = AuthSmtpClient.connect(OUTSIDER, advertiseAll.port())) {
      Reply ehlo = c.ehlo("client.test.example");
      // The default authenticators: CRAM-MD5 is not among them.
      assertTrue(AuthSmtpClient.keywords(ehlo).contains(AuthTesting.DEFAULT_MECHANISMS), ehlo.toString());
      assertReply(504, "5.5.4", c.command("AUTH CRAM-MD5"));
      assertReply(250, "2.1.0", c.command("MAIL FROM:<sender@client.test.example>"));
      assertReply(550, "5.7.1", c.command("RCPT TO:<x@remote.example>"));
      assertReply(250, "2.0.0", c.command("RSET"));
      assertReply(235, "2.7.0", c.command("AUTH PLAIN " + plain("alice", ALICE_PW)));
      assertReply(250, "2.1.0", c.command("MAIL FROM:<sender@client.test.example>"));
      assertReply(250, "2.1.5", c.command("RCPT TO:<x@remote.example>"));
    }
  }

  @Test
  void startTlsAfterAuthIs503() throws Exception {
    try (SmtpTestClient c = ehloed()) {
      assertAuthenticates(c);
      assertReply(503, "5.5.1", c.command("STARTTLS"));
      // Still a working clear-text session.
      assertReply(250, "2.0.0", c.command("NOOP"));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // MAIL FROM ... AUTH=

  @Test
  void mailAuthParameterValidValuesAreAccepted() throws Exception {
    try (SmtpTestClient c = ehloed()) {
      // Before AUTH the value is accepted (and replaced by <>) when it is valid xtext.
      assertReply(250, "2.1.0", c.command("MAIL FROM:<a@b.example> AUTH=alice+40test.example"));
      assertReply(250, "2.0.0", c.command("RSET"));
      assertAuthenticates(c);
      assertReply(250, "2.1.0", c.command("MAIL FROM:<a@b.example> AUTH=<>"));
      assertReply(250, "2.0.0", c.command("RSET"));
      assertReply(250, "2.1.0", c.command("MAIL FROM:<a@b.example> AUTH=alice+40test.example"));
    }
  }

  @Test
  void mailAuthParameterWithBadXtextEscapeIs501() throws Exception {
    try (SmtpTestClient c = ehloed()) {
      assertAuthenticates(c);
      assertReply(501, "5.5.4", c.command("MAIL FROM:<a@b.example> AUTH=bad+4"));
      assertReply(501, "5.5.4", c.command("MAIL FROM:<a@b.example> AUTH=bad+zz"));
      // The refused MAILs opened no transaction.
      assertReply(250, "2.1.0", c.command("MAIL FROM:<a@b.example> AUTH=<>"));
    }
  }

  @Test
  void mailAuthParameterWithEqualsSignIs501() throws Exception {
    try (SmtpTestClient c = ehloed()) {
      assertAuthenticates(c);
      // '=' is not allowed in xtext (RFC 3461) nor in an esmtp-value (RFC 5321): a syntax error in
      // the argument of a parameter the server implements is 501, as for AUTH=bad+4 above; 555 is
      // for parameters the server does not recognize or implement.
      Reply bad = c.command("MAIL FROM:<a@b.example> AUTH=bad=value");
      assertEquals(501, bad.code(), bad.toString());
      assertReply(250, "2.1.0", c.command("MAIL FROM:<a@b.example> AUTH=<>"));
    }
  }
}
