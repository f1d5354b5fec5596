package org.postern.tls;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postern.testing.Await;
import org.postern.testing.PosternTestServer;
import org.postern.testing.TestPki;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A second TLS implementation as client: {@code openssl s_client} (STARTTLS and implicit TLS,
 * server certificate verified against the test CA and the name checked, a client certificate).
 * Skipped, with the reason, when openssl is not installed.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class OpenSslClientTest {
  private static final Pattern ID = Pattern.compile("OK id=(\\S+)");
  private static final Pattern FINAL_REPLY_LINE = Pattern.compile("(?m)^[2-5]\\d\\d ");
  private static String openssl;
  private static TestPki pki;
  /** tls_verify_certificates = test CA, tls_try_verify_hosts = 127.0.0.1, with an implicit-TLS listener. */
  private static PosternTestServer server;
  private static Path ca;
  private static Path clientCert;
  private static Path clientKey;

  @BeforeAll
  static void start() throws Exception {
    openssl = findOnPath("openssl");
    Assumptions.assumeTrue(openssl != null,
        "openssl not installed: no 'openssl' executable on PATH (" + System.getenv("PATH") + "); s_client tests skipped");
    pki = TestPki.shared();
    server = TlsTesting.server(pki, true);
    ca = TlsTesting.caFile(server);
    server.option("tls_verify_certificates", TlsTesting.quote(ca)).option("tls_try_verify_hosts", "127.0.0.1").start();
    TestPki.ServerFiles client = pki.writeServer(server.root().resolve("client"), "client", pki.client());
    clientCert = client.certificate();
    clientKey = client.key();
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  private static String findOnPath(String name) {
    String path = System.getenv("PATH");
    if (path == null) {
      return null;
    }
    for (String dir : path.split(File.pathSeparator)) {
      Path p = Path.of(dir, name);
      if (Files.isExecutable(p) && !Files.isDirectory(p)) {
        return p.toString();
      }
    }
    return null;
  }

  /**
   * Runs s_client, waits until the handshake is reported (or the process ends), then feeds the
   * SMTP lines one by one, each once the line before is answered, and returns stdout and stderr
   * together. At most 20 s.
   */
  private static Result run(List<String> args, String... lines) throws Exception {
    List<String> withoutCommands = new ArrayList<>(args);
    withoutCommands.addAll(List.of("-ign_eof", "-nocommands"));
    return runWithCommands(withoutCommands, lines);
  }

  /** As {@link #run}, with s_client's line commands on (a line {@code R} renegotiates) and no -ign_eof, which turns them off. */
  private static Result runWithCommands(List<String> args, String... lines) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(openssl);
    cmd.add("s_client");
    cmd.addAll(args);
    cmd.add("-brief");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    StringBuffer out = new StringBuffer();
    Thread reader = new Thread(() -> {
      try (InputStream in = p.getInputStream()) {
        byte[] buf = new byte[4096];
        int n;
        while ((n = in.read(buf)) > 0) {
          out.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
        }
      } catch (IOException e) {
        out.append("\n[read error ").append(e).append(']');
      }
    });
    reader.setDaemon(true);
    reader.start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    Await.holdsWithin(millisLeft(deadline), () -> !p.isAlive() || out.toString().contains("CONNECTION ESTABLISHED"));
    // Each line waits for the reply to the one before (EHLO and DATA are synchronization points),
    // the first for the greeting on implicit TLS or, after STARTTLS, for the reply to the EHLO
    // s_client sends itself once TLS is up; the one after "R" waits for s_client's RENEGOTIATING.
    int answered = 1;
    String previous = null;
    try (OutputStream stdin = p.getOutputStream()) {
      for (String line : lines) {
        int replies = answered;
        boolean renegotiating = "R".equals(previous);
        Await.holdsWithin(millisLeft(deadline), () -> !p.isAlive()
            || (renegotiating ? out.toString().contains("RENEGOTIATING") : replies(out.toString()) >= replies));
        if (!p.isAlive()) {
          break;
        }
        stdin.write((line + "\r\n").getBytes(StandardCharsets.US_ASCII));
        stdin.flush();
        if (!line.equals("R")) {
          answered++;
        }
        previous = line;
      }
    } catch (IOException brokenPipe) {
      // s_client already gone: the output says why
    }
    boolean ended = p.waitFor(millisLeft(deadline), TimeUnit.MILLISECONDS);
    if (!ended) {
      p.destroyForcibly();
    }
    reader.join(2000);
    return new Result(ended ? p.exitValue() : -1, out.toString(), cmd);
  }

  private static long millisLeft(long deadlineNanos) {
    return Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime()));
  }

  /** How many SMTP replies s_client has printed: their last lines, a code and a space. */
  private static int replies(String output) {
    return (int) FINAL_REPLY_LINE.matcher(output).results().count();
  }

  private record Result(int exit, String output, List<String> command) {
    @Override
    public String toString() {
      return String.join(" ", command) + "\nexit " + exit + "\n" + output;
    }
  }

  /**
   * On BoringSSL with the machine's OpenSSL 3 present, every signature scheme a client may ask for
   * is signed by libcrypto (SystemOpenSslKeys), and s_client checks each signature against the
   * certificate: a wrong one fails the handshake.
   */
  @Test
  void handshakeSignaturesInEverySchemeAreMadeByTheSystemLibcrypto() throws Exception {
    assumeSystemKeys();
    String[][] cases = {{"-tls1_3", "RSA-PSS+SHA256", "RSA-PSS", "SHA256"}, {"-tls1_3", "RSA-PSS+SHA512", "RSA-PSS", "SHA512"},
        {"-tls1_2", "RSA+SHA256", "RSA", "SHA256"}, {"-tls1_2", "RSA+SHA384", "RSA", "SHA384"},
        {"-tls1_2", "RSA-PSS+SHA384", "RSA-PSS", "SHA384"}};
    for (String[] c : cases) {
      long before = SystemOpenSslKeys.operations();
      Result r = run(List.of("-starttls", "smtp", "-connect", "127.0.0.1:" + server.port(), "-CAfile", ca.toString(),
          "-verify_return_error", c[0], "-sigalgs", c[1]), "EHLO openssl.test.example", "QUIT");
      assertTrue(r.output().contains("Signature type: " + c[2] + "\n") && r.output().contains("Hash used: " + c[3]),
          r.toString());
      assertTrue(r.output().contains("221 "), r.toString());
      assertTrue(SystemOpenSslKeys.operations() > before, "signed by libcrypto: " + String.join(" ", c));
    }
    long before = SystemOpenSslKeys.operations();
    Result implicit = run(List.of("-connect", "127.0.0.1:" + TlsTesting.port(server, "smtps"), "-CAfile", ca.toString(),
        "-verify_return_error"), "EHLO openssl.test.example", "QUIT");
    assertTrue(implicit.output().contains("221 "), implicit.toString());
    assertTrue(SystemOpenSslKeys.operations() > before, "implicit TLS signed by libcrypto");
  }

  /** An EC certificate's ECDSA signature, and the static-RSA key exchange an admin may enable, through libcrypto too. */
  @Test
  void ecdsaSignaturesAndRsaKeyExchangeAreDoneByTheSystemLibcrypto() throws Exception {
    assumeSystemKeys();
    try (PosternTestServer ec = TlsTesting.server(pki, pki.serverEc(), false).start();
         PosternTestServer rsaKx = TlsTesting.server(pki, false).option("tls_require_ciphers", "AES128-GCM-SHA256")
             .start()) {
      long before = SystemOpenSslKeys.operations();
      Result r = run(List.of("-starttls", "smtp", "-connect", "127.0.0.1:" + ec.port(), "-CAfile", ca.toString(),
          "-verify_return_error", "-sigalgs", "ECDSA+SHA256"), "EHLO openssl.test.example", "QUIT");
      assertTrue(r.output().contains("Signature type: ECDSA"), r.toString());
      assertTrue(r.output().contains("221 "), r.toString());
      assertTrue(SystemOpenSslKeys.operations() > before, "ECDSA signed by libcrypto");
      before = SystemOpenSslKeys.operations();
      // No signature in this key exchange: the client's premaster secret is decrypted with the key,
      // and a wrong decryption would fail the Finished check.
      r = run(List.of("-starttls", "smtp", "-connect", "127.0.0.1:" + rsaKx.port(), "-CAfile", ca.toString(),
          "-verify_return_error", "-tls1_2", "-cipher", "AES128-GCM-SHA256"), "EHLO openssl.test.example", "QUIT");
      assertTrue(r.output().contains("Ciphersuite: AES128-GCM-SHA256"), r.toString());
      assertTrue(r.output().contains("250-mx.test.example Hello openssl.test.example"), r.toString());
      assertTrue(r.output().contains("221 "), r.toString());
      assertTrue(SystemOpenSslKeys.operations() > before, "RSA key exchange decrypted by libcrypto");
    }
  }

  private static void assumeSystemKeys() {
    String engine = System.getProperty(PosternTestServer.TLS_ENGINE_PROPERTY, "auto");
    Assumptions.assumeTrue(!engine.equals("jdk"), "the servers run on JSSE, which keeps its keys");
    Assumptions.assumeTrue(TlsEngine.AUTO.resolve() == TlsEngine.OPENSSL, "BoringSSL not loaded: "
        + TlsEngine.openSslUnavailableCause());
    Assumptions.assumeTrue(SystemLibCrypto.system() != null, "no system libcrypto 3: " + SystemLibCrypto.unavailableCause());
    assertTrue(TlsEngine.AUTO.describe().contains("private-key operations by OpenSSL 3"), TlsEngine.AUTO.describe());
  }

  @Test
  void starttlsHandshakeVerifiesAgainstTheTestCa() throws Exception {
    Result r = run(List.of("-starttls", "smtp", "-connect", "127.0.0.1:" + server.port(),
        "-CAfile", ca.toString(), "-verify_return_error", "-verify_hostname", TestPki.SERVER_NAME,
        "-servername", TestPki.SERVER_NAME), "EHLO openssl.test.example", "QUIT");
    assertTrue(r.output().contains("Protocol version: TLSv1.3"), r.toString());
    assertTrue(r.output().contains("Verification: OK"), r.toString());
    assertTrue(r.output().contains("250-mx.test.example Hello openssl.test.example"), r.toString());
    // s_client echoes the last line of the EHLO reply it got in clear ("250 STARTTLS"); the reply to
    // our EHLO inside TLS, which follows, must not offer it again.
    String insideTls = r.output().substring(r.output().indexOf("250-mx.test.example Hello openssl.test.example"));
    assertFalse(insideTls.contains("STARTTLS"), "no STARTTLS in the EHLO reply inside TLS: " + r);
    assertTrue(r.output().contains("221 "), r.toString());
  }

  @Test
  void implicitTlsHandshakeVerifiesAgainstTheTestCa() throws Exception {
    Result r = run(List.of("-connect", "127.0.0.1:" + TlsTesting.port(server, "smtps"),
        "-CAfile", ca.toString(), "-verify_return_error", "-verify_hostname", TestPki.SERVER_NAME,
        "-servername", TestPki.SERVER_NAME), "EHLO openssl.test.example", "QUIT");
    assertTrue(r.output().contains("Verification: OK"), r.toString());
    assertTrue(r.output().contains("220 mx.test.example"), r.toString());
    assertTrue(r.output().contains("221 "), r.toString());
  }

  @Test
  void tls12WithAnOpenSslCipherName() throws Exception {
    Result r = run(List.of("-starttls", "smtp", "-connect", "127.0.0.1:" + server.port(),
        "-CAfile", ca.toString(), "-verify_return_error", "-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"),
        "EHLO openssl.test.example", "QUIT");
    assertTrue(r.output().contains("Protocol version: TLSv1.2"), r.toString());
    assertTrue(r.output().contains("Ciphersuite: ECDHE-RSA-AES128-GCM-SHA256"), r.toString());
    assertTrue(r.output().contains("221 "), r.toString());
  }

  @Test
  void clientCertificateFromOpenSslIsVerified() throws Exception {
    Result r = run(List.of("-starttls", "smtp", "-connect", "127.0.0.1:" + server.port(),
        "-CAfile", ca.toString(), "-verify_return_error", "-cert", clientCert.toString(), "-key", clientKey.toString()),
        "EHLO openssl.test.example", "MAIL FROM:<openssl@client.test.example>", "RCPT TO:<alice@test.example>",
        "DATA", "Subject: via openssl\r\n\r\nhello\r\n.", "QUIT");
    Matcher m = ID.matcher(r.output());
    assertTrue(m.find(), "message not accepted: " + r);
    String log = TlsTesting.arrivalLine(m.group(1));
    assertTrue(log.contains(" P=esmtps X=TLS1.3:") && log.contains(" CV=yes DN=\"" + TestPki.CLIENT_DN + "\""), log);
  }

  @Test
  void clientWithoutTheCaRefusesTheServer() throws Exception {
    // The control: the same command without -CAfile must fail verification and never reach SMTP in TLS.
    Path empty = server.root().resolve("empty-ca.pem");
    Files.writeString(empty, TestPki.pem(TestPki.selfSigned("CN=Unrelated CA").certificate()));
    Result r = run(List.of("-starttls", "smtp", "-connect", "127.0.0.1:" + server.port(),
        "-CAfile", empty.toString(), "-verify_return_error"), "EHLO openssl.test.example", "QUIT");
    assertNotEquals(0, r.exit(), r.toString());
    assertFalse(r.output().contains("221 "), r.toString());
  }

  /**
   * testssl.sh: "Client-initiated renegotiation VULNERABLE (NOT ok), potential DoS threat". JSSE
   * accepts it on TLS 1.2 unless jdk.tls.rejectClientInitiatedRenegotiation is set; TLS 1.3 has no
   * renegotiation at all. The session must end instead of renegotiating.
   */
  @Test
  void clientInitiatedRenegotiationOnTls12IsRefused() throws Exception {
    Result r = runWithCommands(List.of("-starttls", "smtp", "-connect", "127.0.0.1:" + server.port(),
        "-CAfile", ca.toString(), "-tls1_2"), "EHLO openssl.test.example", "R", "NOOP");
    assertTrue(r.output().contains("Protocol version: TLSv1.2"), r.toString());
    int renegotiating = r.output().indexOf("RENEGOTIATING");
    assertTrue(renegotiating > 0, r.toString());
    String after = r.output().substring(renegotiating);
    // (A line starting with Q would quit s_client, so the session ends with stdin instead of QUIT.)
    assertFalse(after.contains("250 "), "the session went on after a client-initiated renegotiation: " + r);
    // JSSE answers handshake_failure, BoringSSL no_renegotiation (RFC 5246 7.2.2): either ends the session.
    assertTrue(after.contains("alert handshake failure") || after.contains("alert no renegotiation"),
        "the server refuses with an alert: " + r);
  }
}
