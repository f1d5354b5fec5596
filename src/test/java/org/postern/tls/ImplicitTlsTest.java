package org.postern.tls;

import org.postern.testing.TlsSmtp;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient.Reply;
import org.postern.testing.TestPki;

import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Implicit TLS (RFC 8314) on a port listed in {@code tls_on_connect_ports}: the handshake comes before the 220. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ImplicitTlsTest {
  private static TestPki pki;
  private static PosternTestServer server;
  private static int smtps;

  @BeforeAll
  static void start() throws Exception {
    pki = TestPki.shared();
    server = TlsTesting.server(pki, true).start();
    smtps = TlsTesting.port(server, "smtps");
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void handshakeFirstThenGreetingAndMessageWithEsmtps() throws Exception {
    try (TlsSmtp c = TlsSmtp.implicit(null, smtps, pki.clientContext())) {
      assertEquals(pki.server().fingerprint(), TestPki.fingerprint(c.serverCertificate()));
      Reply greeting = c.reply();
      assertEquals(220, greeting.code(), greeting.toString());
      assertTrue(greeting.lines().get(0).startsWith("mx.test.example "), greeting.toString());
      Reply ehlo = c.ehlo("implicit.test.example");
      assertFalse(TlsSmtp.keywords(ehlo).contains("STARTTLS"), "no STARTTLS on an implicit-TLS port: " + ehlo);
      Reply starttls = c.command("STARTTLS");
      assertEquals(503, starttls.code(), starttls.toString());

      String id = c.sendMessage("sender@implicit.test.example", "alice@test.example", "implicit tls");
      assertEquals(221, c.command("QUIT").code());
      String cipher = StartTlsTest.eximCipher(c.session());
      String received = TlsTesting.deliveredReceived(server, "alice", id);
      assertTrue(received.contains("with ESMTPS (" + cipher + ")"), cipher + " in " + received);
      String log = TlsTesting.arrivalLine(id);
      assertTrue(log.contains(" P=esmtps X=" + cipher + " CV=no"), log);
      assertTrue(log.contains(":" + smtps + " "), "interface port " + smtps + " in " + log);
    }
  }

  @Test
  void plaintextClientOnTheImplicitPortGetsNoPlaintextGreeting() throws Exception {
    try (TlsSmtp c = TlsSmtp.open(null, smtps)) {
      c.sendPlaintext("EHLO plain.test.example\r\n".getBytes(StandardCharsets.US_ASCII));
      c.rawSocket().setSoTimeout(5000);
      InputStream in = c.rawSocket().getInputStream();
      byte[] buf = new byte[512];
      StringBuilder got = new StringBuilder();
      try {
        int n;
        while ((n = in.read(buf)) > 0) {
          got.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
        }
      } catch (SocketTimeoutException e) {
        throw new AssertionError("the server kept a non-TLS connection open on the implicit-TLS port", e);
      } catch (java.io.IOException e) {
        // reset: closed
      }
      assertFalse(got.toString().contains("220"), "no SMTP greeting in clear: " + got);
      assertFalse(got.toString().contains("250"), "the EHLO must not have been answered: " + got);
    }
    // And the port still serves TLS clients.
    try (TlsSmtp c = TlsSmtp.implicit(null, smtps, pki.clientContext())) {
      assertEquals(220, c.reply().code());
      assertEquals(221, c.command("QUIT").code());
    }
  }

  /** A failed implicit-TLS handshake is logged with the client's address and port, as after STARTTLS. */
  @Test
  void failedImplicitHandshakeIsLogged() throws Exception {
    try (TlsSmtp c = TlsSmtp.open(null, smtps)) {
      c.sendPlaintext("HELLO\r\n".getBytes(StandardCharsets.US_ASCII));
      assertTrue(c.closedByServer(5000), "not a TLS record: the connection must be closed");
      assertTrue(TlsTesting.awaitMainlog("TLS error on connection from [127.0.0.1]:" + c.localPort()
          + " (handshake failed): ", 5000).isPresent(), "no main-log line for the failed implicit-TLS handshake");
    }
  }

  @Test
  void plainListenerOfTheSameServerStillOffersStartTls() throws Exception {
    try (TlsSmtp c = TlsSmtp.connect(server.port())) {
      assertTrue(TlsSmtp.keywords(c.ehlo("client.test.example")).contains("STARTTLS"));
      c.startTls(pki.clientContext());
      assertEquals(pki.server().fingerprint(), TestPki.fingerprint(c.serverCertificate()));
    }
  }
}
