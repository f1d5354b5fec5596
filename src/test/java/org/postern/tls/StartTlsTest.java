package org.postern.tls;

import org.postern.testing.TlsSmtp;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient.Reply;
import org.postern.testing.TestPki;

import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * STARTTLS (RFC 3207) with real handshakes from a JSSE client that trusts only the test CA and
 * checks the server name: advertisement, the 220 2.0.0, the session reset after the handshake,
 * refusals (501, 503), the ESMTPS trace header and main-log fields, an EC server key, and the
 * {@code encrypted} and {@code acl_smtp_starttls} ACLs.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class StartTlsTest {
  private static TestPki pki;
  /** tls_certificate/tls_privatekey = the test PKI's RSA server certificate. */
  private static PosternTestServer server;
  /** The EC (P-256) server certificate, key in SEC1 form. */
  private static PosternTestServer ecServer;
  /** acl_smtp_mail requires encryption; acl_smtp_starttls refuses STARTTLS to 127.0.0.2. */
  private static PosternTestServer aclServer;

  @BeforeAll
  static void start() throws Exception {
    pki = TestPki.shared();
    server = TlsTesting.server(pki, false).start();
    ecServer = TlsTesting.server(pki, pki.serverEc(), false).start();
    String acl = Files.readString(Path.of("conf", "acl.yaml"), StandardCharsets.UTF_8) + "\n"
        + "acl_check_mail:\n"
        + "  - require: { encrypted: \"*\" }\n"
        + "  - accept: {}\n"
        + "acl_check_starttls:\n"
        + "  - deny: { hosts: 127.0.0.2, message: STARTTLS refused to this host }\n"
        + "  - accept: {}\n";
    aclServer = TlsTesting.server(pki, false)
        .acl(acl)
        .option("acl_smtp_mail", "acl_check_mail")
        .option("acl_smtp_starttls", "acl_check_starttls")
        .start();
  }

  @AfterAll
  static void stop() throws Exception {
    PosternTestServer.closeAll(server, ecServer, aclServer);
  }

  /** Exim's $tls_cipher for a JSSE session: {@code TLS1.3:TLS_AES_256_GCM_SHA384:256}. */
  static String eximCipher(SSLSession session) {
    String suite = session.getCipherSuite();
    int bits = suite.contains("AES_256") || suite.contains("CHACHA20") ? 256 : suite.contains("AES_128") ? 128 : 0;
    return session.getProtocol().replace("TLSv", "TLS") + ":" + suite + ":" + bits;
  }

  @Test
  void startTlsHandshakeThenMessageIsReceivedWithEsmtps() throws Exception {
    try (TlsSmtp c = TlsSmtp.connect(server.port())) {
      Reply ehlo = c.ehlo("before-tls.test.example");
      assertTrue(TlsSmtp.keywords(ehlo).contains("STARTTLS"), "STARTTLS must be advertised: " + ehlo);

      Reply ready = c.command("STARTTLS");
      assertEquals(220, ready.code(), ready.toString());
      assertEquals("2.0.0 Ready to start TLS", ready.text());
      SSLSocket tls = c.handshake(pki.clientContext(), s -> { });
      SSLSession session = tls.getSession();
      assertEquals(pki.server().fingerprint(), TestPki.fingerprint(c.serverCertificate()),
          "the server must present tls_certificate");
      assertTrue(session.getProtocol().equals("TLSv1.3") || session.getProtocol().equals("TLSv1.2"),
          session.getProtocol());

      Reply again = c.ehlo("client.test.example");
      assertFalse(TlsSmtp.keywords(again).contains("STARTTLS"), "no STARTTLS inside TLS: " + again);
      assertTrue(TlsSmtp.keywords(again).contains("PIPELINING"), again.toString());

      String id = c.sendMessage("sender@client.test.example", "alice@test.example", "over starttls");
      assertEquals(221, c.command("QUIT").code());

      String cipher = eximCipher(session);
      String received = TlsTesting.deliveredReceived(server, "alice", id);
      assertTrue(received.contains("with ESMTPS (TLS1."), received);
      assertTrue(received.contains("with ESMTPS (" + cipher + ")"), "cipher " + cipher + " in " + received);
      assertTrue(received.contains("from client.test.example ([127.0.0.1] port=" + c.localPort() + ")"), received);
      assertFalse(received.contains("before-tls"), "the EHLO name given in clear must be forgotten: " + received);
      assertFalse(received.contains("peer DN"), "no client certificate was sent: " + received);

      String log = TlsTesting.arrivalLine(id);
      assertTrue(log.contains(" P=esmtps "), log);
      assertTrue(log.contains(" X=TLS1."), log);
      assertTrue(log.contains(" X=" + cipher + " CV=no"), "X=" + cipher + " CV=no in " + log);
      assertFalse(log.contains(" DN="), log);
    }
  }

  @Test
  void plaintextMessageIsStillEsmtpWithoutTlsFields() throws Exception {
    // The control for the test above: the same server without STARTTLS says ESMTP and no X=.
    try (TlsSmtp c = TlsSmtp.connect(server.port())) {
      c.ehlo("client.test.example");
      String id = c.sendMessage("sender@client.test.example", "alice@test.example", "in clear");
      String received = TlsTesting.deliveredReceived(server, "alice", id);
      assertTrue(received.contains("with ESMTP (Postern)"), received);
      String log = TlsTesting.arrivalLine(id);
      assertTrue(log.contains(" P=esmtp "), log);
      assertFalse(log.contains(" X="), log);
    }
  }

  @Test
  void secondStartTlsIsRefusedWith503() throws Exception {
    try (TlsSmtp c = TlsSmtp.connect(server.port())) {
      c.ehlo("client.test.example");
      c.startTls(pki.clientContext());
      Reply beforeEhlo = c.command("STARTTLS");
      assertEquals(503, beforeEhlo.code(), beforeEhlo.toString());
      assertTrue(beforeEhlo.text().startsWith("5.5.1 "), beforeEhlo.toString());
      c.ehlo("client.test.example");
      Reply afterEhlo = c.command("STARTTLS");
      assertEquals(503, afterEhlo.code(), afterEhlo.toString());
      assertTrue(afterEhlo.text().startsWith("5.5.1 "), afterEhlo.toString());
      // Still a working TLS session.
      assertEquals(250, c.command("NOOP").code());
      assertEquals(221, c.command("QUIT").code());
    }
  }

  @Test
  void startTlsWithAnArgumentIs501AndTheSessionStaysInClear() throws Exception {
    try (TlsSmtp c = TlsSmtp.connect(server.port())) {
      c.ehlo("client.test.example");
      Reply r = c.command("STARTTLS foo");
      assertEquals(501, r.code(), r.toString());
      assertTrue(r.text().startsWith("5.5.4 "), r.toString());
      // Nothing was started: the dialogue continues in clear, and a proper STARTTLS still works.
      assertEquals(250, c.command("NOOP").code());
      c.startTls(pki.clientContext());
      assertEquals(250, c.command("NOOP").code());
    }
  }

  @Test
  void handshakeResetsTheSession() throws Exception {
    try (TlsSmtp c = TlsSmtp.connect(server.port())) {
      c.ehlo("client.test.example");
      c.startTls(pki.clientContext());
      Reply mail = c.command("MAIL FROM:<sender@client.test.example>");
      assertEquals(503, mail.code(), "MAIL before the new EHLO must be refused: " + mail);
      assertTrue(mail.text().startsWith("5.5.1 "), mail.toString());
      c.ehlo("client.test.example");
      assertEquals(250, c.command("MAIL FROM:<sender@client.test.example>").code());
    }
  }

  @Test
  void transactionStartedInClearDoesNotSurviveTheHandshake() throws Exception {
    try (TlsSmtp c = TlsSmtp.connect(server.port())) {
      c.ehlo("client.test.example");
      assertEquals(250, c.command("MAIL FROM:<cleartext@client.test.example>").code());
      Reply ready = c.command("STARTTLS");
      if (ready.code() != 220) {
        // Refusing STARTTLS inside a transaction is also acceptable; then nothing more to check.
        assertEquals(503, ready.code(), ready.toString());
        return;
      }
      c.handshake(pki.clientContext(), s -> { });
      c.ehlo("client.test.example");
      Reply rcpt = c.command("RCPT TO:<alice@test.example>");
      assertEquals(503, rcpt.code(), "the sender given in clear must be forgotten: " + rcpt);
    }
  }

  /**
   * A TLS 1.3 client may send its first command in the same packet as its Finished message (and
   * under load a server reads them together anyway). That command is legitimate TLS data and must
   * be answered; only plaintext from before the handshake may be discarded.
   */
  @Test
  void commandInTheSamePacketAsTheClientFinishedIsAnswered() throws Exception {
    for (int round = 0; round < 5; round++) {
      try (TlsSmtp c = TlsSmtp.connect(server.port())) {
        c.ehlo("client.test.example");
        assertEquals(220, c.command("STARTTLS").code());
        c.rawSocket().setSoTimeout(5000);
        EngineClient e = new EngineClient(c.rawSocket(), pki.clientContext().createSSLEngine(TestPki.SERVER_NAME, 25));
        byte[] lastFlight = e.handshakeHoldingLastFlight();
        assertEquals("TLSv1.3", e.engine.getSession().getProtocol());
        byte[] ehlo = e.wrap("EHLO client.test.example\r\n");
        byte[] both = new byte[lastFlight.length + ehlo.length];
        System.arraycopy(lastFlight, 0, both, 0, lastFlight.length);
        System.arraycopy(ehlo, 0, both, lastFlight.length, ehlo.length);
        c.sendPlaintext(both);
        String reply;
        try {
          reply = e.readLine(5000);
        } catch (java.net.SocketTimeoutException timeout) {
          throw new AssertionError("round " + round + ": no reply to the EHLO sent with the client Finished:"
              + " the server dropped it");
        }
        assertTrue(reply.startsWith("250-mx.test.example Hello client.test.example"), "round " + round + ": " + reply);
      }
    }
  }

  /** A minimal blocking TLS client on an {@link SSLEngine}, so the test controls what goes out in which write. */
  private static final class EngineClient {
    final javax.net.ssl.SSLEngine engine;
    private final java.io.InputStream in;
    private final java.io.OutputStream out;
    private java.nio.ByteBuffer netIn;
    private final java.nio.ByteBuffer appIn;
    private final StringBuilder text = new StringBuilder();

    EngineClient(java.net.Socket socket, javax.net.ssl.SSLEngine engine) throws java.io.IOException {
      this.engine = engine;
      engine.setUseClientMode(true);
      this.in = socket.getInputStream();
      this.out = socket.getOutputStream();
      netIn = java.nio.ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
      netIn.flip();
      appIn = java.nio.ByteBuffer.allocate(engine.getSession().getApplicationBufferSize() + 64);
    }

    /** Runs the handshake; the client's last flight (its Finished) is returned instead of being sent. */
    byte[] handshakeHoldingLastFlight() throws Exception {
      engine.beginHandshake();
      java.io.ByteArrayOutputStream pending = new java.io.ByteArrayOutputStream();
      while (true) {
        switch (engine.getHandshakeStatus()) {
          case NEED_WRAP -> {
            java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
            javax.net.ssl.SSLEngineResult r = engine.wrap(java.nio.ByteBuffer.allocate(0), buf);
            buf.flip();
            pending.write(buf.array(), 0, buf.limit());
            if (r.getHandshakeStatus() == javax.net.ssl.SSLEngineResult.HandshakeStatus.FINISHED) {
              return pending.toByteArray();
            }
          }
          case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
            if (pending.size() > 0) {
              out.write(pending.toByteArray());
              out.flush();
              pending.reset();
            }
            unwrapSome();
          }
          case NEED_TASK -> {
            Runnable task;
            while ((task = engine.getDelegatedTask()) != null) {
              task.run();
            }
          }
          default -> {
            return pending.toByteArray();
          }
        }
      }
    }

    byte[] wrap(String data) throws Exception {
      java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
      engine.wrap(java.nio.ByteBuffer.wrap(data.getBytes(StandardCharsets.US_ASCII)), buf);
      buf.flip();
      byte[] b = new byte[buf.remaining()];
      buf.get(b);
      return b;
    }

    /** Unwraps at least one record, reading from the socket when needed. */
    private void unwrapSome() throws Exception {
      while (true) {
        javax.net.ssl.SSLEngineResult r = engine.unwrap(netIn, appIn);
        if (r.getStatus() == javax.net.ssl.SSLEngineResult.Status.BUFFER_UNDERFLOW || r.bytesConsumed() == 0) {
          netIn.compact();
          int n = in.read(netIn.array(), netIn.position(), netIn.remaining());
          if (n < 0) {
            throw new java.io.EOFException("server closed during the handshake");
          }
          netIn.position(netIn.position() + n);
          netIn.flip();
          if (r.getStatus() == javax.net.ssl.SSLEngineResult.Status.BUFFER_UNDERFLOW) {
            continue;
          }
        }
        if (r.getStatus() == javax.net.ssl.SSLEngineResult.Status.CLOSED) {
          throw new java.io.EOFException("TLS closed by the server");
        }
        if (r.bytesConsumed() > 0) {
          appIn.flip();
          text.append(StandardCharsets.US_ASCII.decode(appIn));
          appIn.clear();
          return;
        }
      }
    }

    /** The first CRLF-terminated line of application data. */
    String readLine(int timeoutMillis) throws Exception {
      long end = System.currentTimeMillis() + timeoutMillis;
      while (text.indexOf("\r\n") < 0) {
        if (System.currentTimeMillis() > end) {
          throw new java.net.SocketTimeoutException();
        }
        unwrapSome();
      }
      return text.substring(0, text.indexOf("\r\n"));
    }
  }

  @Test
  void ecServerCertificate() throws Exception {
    try (TlsSmtp c = TlsSmtp.connect(ecServer.port())) {
      c.ehlo("client.test.example");
      c.startTls(pki.clientContext());
      assertEquals("EC", c.serverCertificate().getPublicKey().getAlgorithm());
      assertEquals(pki.serverEc().fingerprint(), TestPki.fingerprint(c.serverCertificate()));
      c.ehlo("client.test.example");
      String id = c.sendMessage("sender@client.test.example", "bob@test.example", "ec key");
      assertTrue(TlsTesting.deliveredReceived(ecServer, "bob", id).contains("with ESMTPS (TLS1."));
    }
  }

  @Test
  void ecKeyInSec1FormWithoutTheOptionalPublicKeyIsAccepted() throws Exception {
    // RFC 5915 makes the public key of an ECPrivateKey optional; "openssl ec -no_public" writes such files.
    try (PosternTestServer s = PosternTestServer.create()) {
      TestPki.ServerFiles files = pki.writeServer(s.root().resolve("certs"), "server", pki.serverEc(),
          TestPki.KeyFormat.SEC1_WITHOUT_PUBLIC_KEY);
      assertTrue(Files.readString(files.key()).startsWith("-----BEGIN EC PRIVATE KEY-----"));
      s.option("tls_certificate", TlsTesting.quote(files.certificate()))
          .option("tls_privatekey", TlsTesting.quote(files.key()))
          .option("tls_directory", "../tls").option("tls_on_connect_ports", "\"\"").start();
      try (TlsSmtp c = TlsSmtp.connect(s.port())) {
        Reply ehlo = c.ehlo("client.test.example");
        assertTrue(TlsSmtp.keywords(ehlo).contains("STARTTLS"), "the EC key must load, STARTTLS offered: " + ehlo);
        c.startTls(pki.clientContext());
        assertEquals(pki.serverEc().fingerprint(), TestPki.fingerprint(c.serverCertificate()));
      }
    }
  }

  @Test
  void encryptedAclRefusesMailInClearAndAcceptsItInTls() throws Exception {
    try (TlsSmtp c = TlsSmtp.connect(aclServer.port())) {
      c.ehlo("client.test.example");
      Reply clear = c.command("MAIL FROM:<sender@client.test.example>");
      assertEquals(550, clear.code(), "require encrypted must refuse MAIL in clear: " + clear);
      c.startTls(pki.clientContext());
      c.ehlo("client.test.example");
      Reply tls = c.command("MAIL FROM:<sender@client.test.example>");
      assertEquals(250, tls.code(), "MAIL inside TLS must pass require encrypted: " + tls);
    }
  }

  @Test
  void starttlsAclRefusalKeepsTheSessionInClear() throws Exception {
    try (TlsSmtp c = TlsSmtp.connectFrom("127.0.0.2", aclServer.port())) {
      c.ehlo("client.test.example");
      Reply r = c.command("STARTTLS");
      assertTrue(r.code() >= 400 && r.code() < 600, "acl_smtp_starttls deny must refuse: " + r);
      assertTrue(r.text().contains("STARTTLS refused to this host"), r.toString());
      // No upgrade happened: plaintext commands are still answered in clear.
      assertEquals(250, c.command("NOOP").code());
      assertEquals(221, c.command("QUIT").code());
    }
    try (TlsSmtp c = TlsSmtp.connectFrom("127.0.0.1", aclServer.port())) {
      c.ehlo("client.test.example");
      c.startTls(pki.clientContext());
      assertEquals(250, c.command("NOOP").code());
    }
  }
}
