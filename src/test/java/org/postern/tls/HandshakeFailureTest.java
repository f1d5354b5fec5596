package org.postern.tls;

import org.postern.testing.TlsSmtp;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postern.testing.Await;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient.Reply;
import org.postern.testing.TestPki;

import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Failed and abandoned handshakes after STARTTLS. Each abuse is followed by proof that the
 * listener still serves a new connection normally (greeting, STARTTLS, handshake, EHLO, QUIT).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HandshakeFailureTest {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static TestPki pki;
  /** Defaults, except tls_handshake_timeout: 2s; with an implicit-TLS listener. */
  private static PosternTestServer server;
  /**
   * smtp_accept_max_per_host: 2, to catch connection slots leaked by failed handshakes;
   * tls_verify_hosts: 127.0.0.2, whose implicit-TLS connections without a certificate are closed after the handshake.
   */
  private static PosternTestServer limited;
  /** tls_protocols: TLSv1.3. */
  private static PosternTestServer tls13;
  /** tls_protocols: TLSv1.2, tls_require_ciphers: ECDHE-RSA-AES256-GCM-SHA384. */
  private static PosternTestServer oneCipher;

  @BeforeAll
  static void start() throws Exception {
    pki = TestPki.shared();
    server = TlsTesting.server(pki, true).option("tls_handshake_timeout", "2s").start();
    limited = TlsTesting.server(pki, true).option("smtp_accept_max_per_host", "2")
        .option("tls_verify_hosts", "127.0.0.2");
    limited.option("tls_verify_certificates", TlsTesting.quote(TlsTesting.caFile(limited))).start();
    tls13 = TlsTesting.server(pki, false).option("tls_protocols", "TLSv1.3").start();
    oneCipher = TlsTesting.server(pki, false)
        .option("tls_protocols", "TLSv1.2")
        .option("tls_require_ciphers", "ECDHE-RSA-AES256-GCM-SHA384")
        .start();
  }

  @AfterAll
  static void stop() throws Exception {
    PosternTestServer.closeAll(server, limited, tls13, oneCipher);
  }

  /** Connects, EHLO, STARTTLS, reads the 220: the next bytes are the client's handshake. */
  private static TlsSmtp afterStartTls(PosternTestServer s) throws IOException {
    TlsSmtp c = TlsSmtp.connect(s.port());
    c.ehlo("client.test.example");
    Reply r = c.command("STARTTLS");
    assertEquals(220, r.code(), r.toString());
    return c;
  }

  private static void assertHandshakeFailureLogged(TlsSmtp c) throws Exception {
    assertTrue(TlsTesting.awaitMainlog("TLS error on connection from [127.0.0.1]:" + c.localPort()
        + " (handshake failed)", 5000).isPresent(), "handshake failure of port " + c.localPort() + " not logged");
  }

  // ---------------------------------------------------------------------------------------------

  @Test
  void textInsteadOfClientHelloClosesTheConnection() throws Exception {
    try (TlsSmtp c = afterStartTls(server)) {
      c.sendPlaintext("HELLO\r\n".getBytes(StandardCharsets.US_ASCII));
      TlsTesting.readUntilClosed(c, 5000);
      assertHandshakeFailureLogged(c);
    }
    TlsTesting.assertServesStartTls(server, pki);
  }

  @Test
  void textInsteadOfClientHelloThenClientCloses() throws Exception {
    try (TlsSmtp c = afterStartTls(server)) {
      c.sendPlaintext("HELLO\r\n".getBytes(StandardCharsets.US_ASCII));
    }
    TlsTesting.assertServesStartTls(server, pki);
  }

  @Test
  void randomBytesInsteadOfClientHelloCloseTheConnection() throws Exception {
    for (int i = 0; i < 3; i++) {
      byte[] garbage = new byte[200];
      RANDOM.nextBytes(garbage);
      garbage[0] = (byte) (garbage[0] == 0x16 ? 0x17 : garbage[0]);
      try (TlsSmtp c = afterStartTls(server)) {
        c.sendPlaintext(garbage);
        TlsTesting.readUntilClosed(c, 5000);
      }
    }
    TlsTesting.assertServesStartTls(server, pki);
  }

  @Test
  void handshakeRecordWithGarbageBodyClosesTheConnection() throws Exception {
    byte[] record = new byte[5 + 196];
    RANDOM.nextBytes(record);
    record[0] = 0x16;
    record[1] = 0x03;
    record[2] = 0x01;
    record[3] = 0x00;
    record[4] = (byte) 196;
    record[5] = 0x01; // ClientHello, with a random length and body
    try (TlsSmtp c = afterStartTls(server)) {
      c.sendPlaintext(record);
      TlsTesting.readUntilClosed(c, 5000);
      assertHandshakeFailureLogged(c);
    }
    TlsTesting.assertServesStartTls(server, pki);
  }

  @Test
  void clientDropsTheConnectionInTheMiddleOfTheHandshake() throws Exception {
    byte[] hello = TlsTesting.clientHello(pki);
    // Half a ClientHello, then a reset.
    try (TlsSmtp c = afterStartTls(server)) {
      c.sendPlaintext(Arrays.copyOf(hello, hello.length / 2));
      c.rawSocket().setSoLinger(true, 0);
    }
    // A whole ClientHello, wait for the server's first flight, then a reset.
    try (TlsSmtp c = afterStartTls(server)) {
      c.sendPlaintext(hello);
      c.rawSocket().setSoTimeout(5000);
      int b = c.rawSocket().getInputStream().read();
      assertEquals(0x16, b, "the server must answer a ClientHello with a handshake record");
      c.rawSocket().setSoLinger(true, 0);
    }
    // A whole ClientHello, then an orderly close.
    try (TlsSmtp c = afterStartTls(server)) {
      c.sendPlaintext(hello);
    }
    TlsTesting.assertServesStartTls(server, pki);
  }

  @Test
  void stalledHandshakeIsAbandonedAfterTlsHandshakeTimeout() throws Exception {
    long start = System.nanoTime();
    try (TlsSmtp c = afterStartTls(server)) {
      TlsTesting.readUntilClosed(c, 10_000);
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertTrue(ms >= 1500, "closed after " + ms + " ms, before tls_handshake_timeout (2s)");
      assertHandshakeFailureLogged(c);
    }
    TlsTesting.assertServesStartTls(server, pki);
  }

  @Test
  void stalledImplicitTlsHandshakeIsAbandonedAfterTlsHandshakeTimeout() throws Exception {
    long start = System.nanoTime();
    try (TlsSmtp c = TlsSmtp.open(null, TlsTesting.port(server, "smtps"))) {
      TlsTesting.readUntilClosed(c, 10_000);
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertTrue(ms >= 1500, "closed after " + ms + " ms, before tls_handshake_timeout (2s)");
    }
    try (TlsSmtp c = TlsSmtp.implicit(null, TlsTesting.port(server, "smtps"), pki.clientContext())) {
      assertEquals(220, c.reply().code());
    }
  }

  @Test
  void failedHandshakesDoNotLeakConnectionSlots() throws Exception {
    byte[] hello = TlsTesting.clientHello(pki);
    for (int i = 0; i < 4; i++) {
      try (TlsSmtp c = afterStartTls(limited)) {
        c.sendPlaintext("HELLO\r\n".getBytes(StandardCharsets.US_ASCII));
        TlsTesting.readUntilClosed(c, 5000);
      }
      try (TlsSmtp c = afterStartTls(limited)) {
        c.sendPlaintext(Arrays.copyOf(hello, hello.length / 2));
        c.rawSocket().setSoLinger(true, 0);
      }
      try (TlsSmtp c = afterStartTls(limited)) {
        assertThrows(SSLException.class,
            () -> c.handshake(pki.clientContext(), s -> s.setEnabledProtocols(new String[] {"TLSv1.1"})));
      }
      try (TlsSmtp c = TlsSmtp.open(null, TlsTesting.port(limited, "smtps"))) {
        c.sendPlaintext("EHLO plain\r\n".getBytes(StandardCharsets.US_ASCII));
        TlsTesting.readUntilClosed(c, 5000);
      }
      try (TlsSmtp c = TlsSmtp.implicit("127.0.0.2", TlsTesting.port(limited, "smtps"), pki.clientContext())) {
        c.reply();
        fail("127.0.0.2 without a certificate must not be greeted");
      } catch (IOException expected) {
        // closed after the handshake (tls_verify_hosts)
      }
    }
    for (String host : new String[] {"127.0.0.1", "127.0.0.2"}) {
      assertTwoConnectionsAdmitted(host);
    }
  }

  private static void assertTwoConnectionsAdmitted(String host) throws Exception {
    // The server notices a reset asynchronously: give it a moment, then two connections at once must be admitted.
    Await.until("after failed handshakes, " + host + "'s connection slots to be free", 3000, () -> {
      try (TlsSmtp a = TlsSmtp.open(host, limited.port()); TlsSmtp b = TlsSmtp.open(host, limited.port())) {
        Reply ra = a.reply();
        Reply rb = b.reply();
        if (ra.code() != 220 || rb.code() != 220) {
          return false;
        }
        a.ehlo("a.test.example");
        a.startTls(pki.clientContext(pki.client()));
        assertEquals(250, a.command("NOOP").code());
        return true;
      }
    });
  }

  @Test
  void jsseClientLimitedToTls11Fails() throws Exception {
    try (TlsSmtp c = afterStartTls(server)) {
      assertThrows(SSLException.class,
          () -> c.handshake(pki.clientContext(), s -> s.setEnabledProtocols(new String[] {"TLSv1.1"})));
    }
    TlsTesting.assertServesStartTls(server, pki);
  }

  @Test
  void tls11ClientHelloIsAnsweredWithProtocolVersionAlert() throws Exception {
    // The JDK will not even send a TLS 1.1 ClientHello, so write one by hand: version 3.2, two
    // CBC suites, no extensions. Postern (TLSv1.2 and TLSv1.3) must refuse it with an alert.
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.write(new byte[] {0x03, 0x02});
    byte[] random = new byte[32];
    RANDOM.nextBytes(random);
    body.write(random);
    body.write(0); // session id
    body.write(new byte[] {0x00, 0x04, (byte) 0xc0, 0x13, 0x00, 0x2f});
    body.write(new byte[] {0x01, 0x00}); // null compression
    byte[] b = body.toByteArray();
    ByteArrayOutputStream record = new ByteArrayOutputStream();
    record.write(new byte[] {0x16, 0x03, 0x02, 0x00, (byte) (b.length + 4)});
    record.write(new byte[] {0x01, 0x00, 0x00, (byte) b.length});
    record.write(b);
    try (TlsSmtp c = afterStartTls(server)) {
      c.sendPlaintext(record.toByteArray());
      byte[] reply = TlsTesting.readUntilClosed(c, 5000);
      assertTrue(reply.length >= 7, "expected a TLS alert, got " + Arrays.toString(reply));
      assertEquals(70, reply[6], "expected alert protocol_version (70), got " + Arrays.toString(reply));
      assertHandshakeFailureLogged(c);
    }
    TlsTesting.assertServesStartTls(server, pki);
  }

  @Test
  void tls12ClientAgainstTls13OnlyServerFails() throws Exception {
    try (TlsSmtp c = afterStartTls(tls13)) {
      assertThrows(SSLException.class,
          () -> c.handshake(pki.clientContext(), s -> s.setEnabledProtocols(new String[] {"TLSv1.2"})));
      assertHandshakeFailureLogged(c);
    }
    try (TlsSmtp c = TlsSmtp.connect(tls13.port())) {
      c.ehlo("client.test.example");
      c.startTls(pki.clientContext());
      assertEquals("TLSv1.3", c.session().getProtocol());
    }
    TlsTesting.assertServesStartTls(tls13, pki);
  }

  @Test
  void cipherMismatchFails() throws Exception {
    try (TlsSmtp c = afterStartTls(oneCipher)) {
      assertThrows(SSLException.class, () -> c.handshake(pki.clientContext(),
          s -> s.setEnabledCipherSuites(new String[] {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"})));
      assertHandshakeFailureLogged(c);
    }
    TlsTesting.assertServesStartTls(oneCipher, pki);
  }

  @Test
  void clientOfferingTheRequiredSuiteGetsIt() throws Exception {
    try (TlsSmtp c = afterStartTls(oneCipher)) {
      c.handshake(pki.clientContext(), s -> s.setEnabledCipherSuites(new String[] {
          "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
          "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"}));
      SSLSession session = c.session();
      assertEquals("TLSv1.2", session.getProtocol());
      assertEquals("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", session.getCipherSuite());
      c.ehlo("client.test.example");
      String id = c.sendMessage("sender@client.test.example", "alice@test.example", "one cipher");
      String log = TlsTesting.arrivalLine(id);
      assertTrue(log.contains(" X=TLS1.2:TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384:256 "), log);
    }
    // A default client (TLS 1.3 preferred) is held to TLS 1.2 and the one suite as well.
    try (TlsSmtp c = TlsSmtp.connect(oneCipher.port())) {
      c.ehlo("client.test.example");
      c.startTls(pki.clientContext());
      assertEquals("TLSv1.2", c.session().getProtocol());
      assertEquals("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", c.session().getCipherSuite());
    }
  }
}
