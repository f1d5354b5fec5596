package org.postern.auth;

import org.apache.commons.net.smtp.AuthenticatingSMTPClient;
import org.apache.commons.net.smtp.AuthenticatingSMTPClient.AUTH_METHOD;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postern.testing.ChildPostern;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient.Reply;
import org.postern.testing.TestPki;

import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.auth.AuthTesting.assertReply;
import static org.postern.auth.AuthTesting.b64;
import static org.postern.auth.AuthTesting.unb64;
import static org.postern.auth.AuthTesting.secret;

/**
 * The out-of-the-box AUTH set-up against mainstream clients (issue 11): a passwd entry made by
 * {@code postern passwd} with its defaults, the shipped authenticators, STARTTLS from a host that
 * may relay only after AUTH, and Python's {@code smtplib.login()}, {@code curl}, Commons Net and a
 * SCRAM client. Python 3 and curl are installed by {@code .ci/run}. Also {@code -bV}'s warnings
 * about passwd entries that cannot serve an advertised mechanism or use an unknown scheme.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class AuthDefaultsTest {
  private static final String OUTSIDER = "127.0.0.2";
  private static final String CAROL_PW = secret("Defaults-Carol-pw-2b7e");

  /** The shipped postern.yaml (authenticators included), carol from `postern passwd`. */
  private static PosternTestServer shipped;
  /** The same, with the legacy CRAM-MD5 authenticator turned on. */
  private static PosternTestServer legacy;
  private static String carolLine;
  private static SSLContext tls;

  @BeforeAll
  static void start() throws Exception {
    tls = TestPki.shared().clientContext();
    shipped = AuthTesting.tlsServer().shippedMainConfig();
    ChildPostern.Result made = ChildPostern.run(shipped.root(), shipped.writeConfig(), CAROL_PW + "\n",
        "passwd", "--user", "carol");
    assertEquals(0, made.exit(), made::toString);
    carolLine = made.stdout().strip();
    shipped.users("admin:", carolLine).start();
    legacy = AuthTesting.tlsServer()
        .option("authenticators", AuthTesting.WITH_CRAM_MD5)
        .users("admin:", carolLine)
        .start();
  }

  @AfterAll
  static void stop() throws Exception {
    PosternTestServer.closeAll(shipped, legacy);
    AuthTesting.assertNoSecretsLogged(java.util.Set.of());
  }

  @Test
  void passwdDefaultsToScramSha256() {
    assertTrue(carolLine.startsWith("carol:{SCRAM-SHA-256}4096,"), carolLine);
    assertFalse(carolLine.contains(CAROL_PW), carolLine);
  }

  @Test
  void shippedAuthenticatorsAdvertiseNoCramMd5() throws Exception {
    try (AuthSmtpClient c = AuthSmtpClient.connect(OUTSIDER, shipped.port())) {
      c.ehlo("client.test.example");
      Reply ehlo = c.startTlsAndEhlo(tls);
      assertEquals("AUTH PLAIN LOGIN SCRAM-SHA-256", AuthSmtpClient.authLine(ehlo), ehlo.toString());
      assertReply(504, "5.5.4", c.command("AUTH CRAM-MD5"));
    }
  }

  @Test
  void everyAdvertisedMechanismWorksWithTheDefaultEntry() throws Exception {
    for (AUTH_METHOD method : new AUTH_METHOD[] {AUTH_METHOD.PLAIN, AUTH_METHOD.LOGIN}) {
      AuthenticatingSMTPClient c = new AuthenticatingSMTPClient(false, tls);
      try {
        c.setDefaultTimeout(10_000);
        c.connect(InetAddress.getLoopbackAddress(), shipped.port(), InetAddress.getByName(OUTSIDER), 0);
        assertEquals(250, c.ehlo("commons.test.example"), c.getReplyString());
        assertTrue(c.execTLS(), c.getReplyString());
        assertEquals(250, c.ehlo("commons.test.example"), c.getReplyString());
        assertTrue(c.auth(method, "carol", CAROL_PW), method + ": " + c.getReplyString());
      } finally {
        c.disconnect();
      }
    }
    // SCRAM-SHA-256, what Postfix with Cyrus SASL picks (it used to get 535 with the bcrypt default).
    try (AuthSmtpClient c = AuthSmtpClient.connect(OUTSIDER, shipped.port())) {
      c.ehlo("client.test.example");
      c.startTlsAndEhlo(tls);
      AuthScramClient scram = AuthScramClient.random("carol", CAROL_PW);
      Reply first = c.command("AUTH SCRAM-SHA-256 " + b64(scram.clientFirst()));
      assertEquals(334, first.code(), first.toString());
      Reply fin = c.command(b64(scram.clientFinal(unb64(first.text()))));
      assertEquals(334, fin.code(), fin.toString());
      scram.verifyServerFinal(unb64(fin.text()));
      assertReply(235, "2.7.0", c.command(""));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Python smtplib and curl

  /**
   * Python's smtplib: STARTTLS (certificate checked against the test CA), {@code login()} with its
   * own choice of mechanism, one message to a remote domain; {@code logins} times, each on a new
   * connection from 127.0.0.2. Prints one line per login.
   */
  private static final String SMTPLIB = String.join("\n",
      "import smtplib, ssl, sys",
      "port, ca, user, password, logins = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])",
      "ctx = ssl.create_default_context(cafile=ca)",
      "ctx.check_hostname = False  # the certificate names mx.test.example, the client dials 127.0.0.1",
      "for i in range(logins):",
      "    with smtplib.SMTP('127.0.0.1', port, local_hostname='python.test.example', timeout=20,",
      "                      source_address=('127.0.0.2', 0)) as s:",
      "        s.starttls(context=ctx)",
      "        code, text = s.login(user, password)",
      "        s.sendmail('py@client.test.example', ['x@remote.example'], 'Subject: smtplib %d\\r\\n\\r\\nhi\\r\\n' % i)",
      "        print('login', i, code, text.decode())",
      "");

  private static ChildPostern.Result runTool(Path dir, List<String> command) throws Exception {
    Path out = Files.createTempFile(dir, "tool", ".out");
    Path err = Files.createTempFile(dir, "tool", ".err");
    Process p;
    try {
      p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    } catch (IOException e) {
      throw new AssertionError(command.get(0) + " is not installed (.ci/run installs it): " + e.getMessage(), e);
    }
    if (!p.waitFor(90, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(command + " did not end within 90 s");
    }
    return new ChildPostern.Result(p.exitValue(), Files.readString(out), Files.readString(err));
  }

  private static ChildPostern.Result smtplib(PosternTestServer s, int logins) throws Exception {
    Path script = s.root().resolve("login.py");
    Files.writeString(script, SMTPLIB, StandardCharsets.UTF_8);
    return runTool(s.root(), List.of("python3", script.toString(), Integer.toString(s.port()),
        s.root().resolve("certs/ca.pem").toString(), "carol", CAROL_PW, Integer.toString(logins)));
  }

  @Test
  void pythonSmtplibLogsInAgainAndAgainWithTheDefaults() throws Exception {
    // More logins than auth_failures_per_host (10): none may cost a failure.
    ChildPostern.Result r = smtplib(shipped, 12);
    System.err.println("smtplib against the shipped defaults:\n" + r.stdout());
    assertEquals(0, r.exit(), r::toString);
    assertEquals(12, r.stdout().lines().filter(l -> l.matches("login \\d+ 235 2\\.7\\.0 .*")).count(), r::toString);
  }

  @Test
  void pythonSmtplibIsNotLockedOutByTheLegacyCramMd5() throws Exception {
    // smtplib tries CRAM-MD5 first; the SCRAM entry cannot serve it, so each login starts with an
    // uncounted 535, then PLAIN. The 10th login used to get 454 and lock the address out.
    ChildPostern.Result r = smtplib(legacy, 12);
    System.err.println("smtplib with the legacy CRAM-MD5 on:\n" + r.stdout());
    assertEquals(0, r.exit(), r::toString);
    assertEquals(12, r.stdout().lines().filter(l -> l.matches("login \\d+ 235 2\\.7\\.0 .*")).count(), r::toString);
    assertTrue(AuthTesting.awaitMainlog(5000, "cram_md5 authenticator failed", "set_id=carol",
        "CRAM-MD5 cannot use the stored scheme {SCRAM-SHA-256}", "(not counted as a failure)").isPresent(),
        "no log line saying why CRAM-MD5 failed");
  }

  @Test
  void curlSendsWithTheDefaults() throws Exception {
    Path message = shipped.root().resolve("curl-message.txt");
    String subject = "curl " + System.nanoTime();
    Files.writeString(message, "From: <curl@client.test.example>\r\nTo: <x@remote.example>\r\nSubject: " + subject
        + "\r\n\r\nSent by curl after AUTH.\r\n", StandardCharsets.US_ASCII);
    int port = shipped.port();
    List<String> command = new ArrayList<>(List.of("curl", "--silent", "--show-error", "--verbose",
        "--url", "smtp://mx.test.example:" + port, "--connect-to", "mx.test.example:" + port + ":127.0.0.1:" + port,
        "--interface", OUTSIDER, "--ssl-reqd", "--cacert", shipped.root().resolve("certs/ca.pem").toString(),
        "--user", "carol:" + CAROL_PW, "--mail-from", "curl@client.test.example", "--mail-rcpt", "x@remote.example",
        "--upload-file", message.toString()));
    ChildPostern.Result r = runTool(shipped.root(), command);
    // curl's --verbose shows the AUTH it chose; the password is in base64 only, and the test
    // register of secrets does not see the encoded form, so stderr stays in this process.
    assertEquals(0, r.exit(), () -> "curl failed: exit " + r.exit() + "\n" + r.stderr());
    assertTrue(r.stderr().contains("> AUTH "), r.stderr());
    // The mechanism curl chose, without its initial response (the credentials).
    r.stderr().lines().filter(l -> l.startsWith("> AUTH ") || l.startsWith("< 235") || l.startsWith("< 250 2.0.0"))
        .map(l -> l.startsWith("> AUTH ") ? l.replaceAll("^(> AUTH \\S+).*", "$1 ...") : l)
        .forEach(l -> System.err.println("curl: " + l));
    assertTrue(r.stderr().contains("< 235 2.7.0"), r.stderr());
    assertTrue(AuthTesting.awaitMainlog(5000, "<= curl@client.test.example", "[" + OUTSIDER + "]", " A=")
        .isPresent(), "no arrival line for curl's message");
  }

  // ---------------------------------------------------------------------------------------------
  // -bV

  @Test
  void configCheckWarnsAboutEntriesThatCannotServeAnAdvertisedMechanism() throws Exception {
    try (PosternTestServer s = PosternTestServer.create()) {
      s.users("admin:",
          "bob:{BLF-CRYPT}" + PasswordSchemes.bcrypt("x".getBytes(StandardCharsets.UTF_8), 4),
          carolLine,
          "dave:{ARGON2ID}$argon2id$v=19$m=1024,t=1,p=2$c2FsdHNhbHRzYWx0MDAwMw$law+6JrEba5RaJoF+llFUA",
          "erin:{SHA1}2jmj7l5rSw0yVb/vlWAYkK/YBwk=",
          "frank:{PLAIN}frank-pw");
      ChildPostern.Result r = ChildPostern.run(s.root(), s.writeConfig(), "", "-bV");
      assertEquals(0, r.exit(), r::toString);
      assertTrue(r.stdout().contains("OK"), r::toString);
      String err = r.stderr();
      assertTrue(err.contains("passwd:2: bob: {BLF-CRYPT} cannot serve SCRAM-SHA-256 (authenticator scram)"), err);
      assertTrue(err.contains("passwd:4: dave: {ARGON2ID} cannot serve SCRAM-SHA-256 (authenticator scram)"), err);
      assertTrue(err.contains("passwd:5: erin: unknown password scheme {SHA1}: this user can never log in"), err);
      // The SCRAM entry and the PLAIN one serve everything; admin has no password.
      assertFalse(err.contains("carol:"), err);
      assertFalse(err.contains("frank:"), err);
      assertFalse(err.contains("admin:"), err);
    }
  }
}
