package org.postern.tls;

import org.postern.testing.TlsSmtp;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient.Reply;
import org.postern.testing.TestPki;

import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * STARTTLS command injection (CVE-2011-0411): plaintext a man in the middle adds after STARTTLS
 * must never be executed inside the TLS session. The probe is {@code EHLO inject.example} plus
 * {@code MAIL FROM:<inject@x.example>}: if either ran inside TLS, the client's first command after
 * the handshake, {@code RCPT TO}, would be accepted (or a stray reply would come first) instead of
 * getting 503 "EHLO or HELO first".
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class StartTlsInjectionTest {
  private static final String PROBE = "EHLO inject.example\r\nMAIL FROM:<inject@x.example>\r\n";
  private static final int ROUNDS = 5;
  private static TestPki pki;
  /** smtp_enforce_sync: false — injected input is discarded silently. */
  private static PosternTestServer lenient;
  /** smtp_enforce_sync: true (the default) — injected input in the STARTTLS packet is a synchronization error. */
  private static PosternTestServer strict;

  @BeforeAll
  static void start() throws Exception {
    pki = TestPki.shared();
    lenient = TlsTesting.server(pki, false).option("smtp_enforce_sync", "false").start();
    strict = TlsTesting.server(pki, false).start();
  }

  @AfterAll
  static void stop() throws Exception {
    PosternTestServer.closeAll(lenient, strict);
  }

  /** Inside a fresh TLS session: nothing ran, the session is in its initial state and replies are in step. */
  private static void assertCleanTlsSession(TlsSmtp c) throws IOException {
    Reply first = c.command("RCPT TO:<alice@test.example>");
    assertEquals(503, first.code(), "injected commands were executed inside TLS (or a stray reply came first): " + first);
    assertTrue(first.text().contains("EHLO or HELO first"), "session must be in its initial state: " + first);
    Reply ehlo = c.ehlo("client.test.example");
    assertEquals("mx.test.example Hello client.test.example [127.0.0.1]", ehlo.lines().get(0), ehlo.toString());
    Reply rcpt = c.command("RCPT TO:<alice@test.example>");
    assertEquals(503, rcpt.code(), "the injected MAIL must not have been executed: " + rcpt);
    assertEquals("5.5.1 MAIL first", rcpt.text());
    Reply noop = c.command("NOOP");
    assertEquals(250, noop.code(), "replies out of step: " + noop);
  }

  @Test
  void sameWriteInjectionIsDiscardedWhenSyncIsNotEnforced() throws Exception {
    for (int i = 0; i < ROUNDS; i++) {
      try (TlsSmtp c = TlsSmtp.connect(lenient.port())) {
        c.ehlo("client.test.example");
        c.send("STARTTLS\r\n" + PROBE);
        Reply ready = c.reply();
        assertEquals(220, ready.code(), "round " + i + ": " + ready);
        c.handshake(pki.clientContext(), s -> { });
        assertCleanTlsSession(c);
      }
    }
  }

  @Test
  void sameWriteInjectionIsASynchronizationErrorByDefault() throws Exception {
    for (int i = 0; i < ROUNDS; i++) {
      try (TlsSmtp c = TlsSmtp.connect(strict.port())) {
        c.ehlo("client.test.example");
        c.send("STARTTLS\r\n" + PROBE);
        Reply r = c.reply();
        assertEquals(554, r.code(), "round " + i + ": STARTTLS with input behind it must be refused: " + r);
        assertTrue(r.text().startsWith("5.5.0 "), r.toString());
        assertTrue(c.closedByServer(5000), "the connection must be closed after the synchronization error");
      }
    }
    TlsTesting.assertServesStartTls(strict, pki);
  }

  /**
   * The injection in a later packet: the client reads the 220, then plaintext goes out on the
   * raw socket, then the ClientHello. The server may drop the plaintext and complete the handshake,
   * or fail the handshake because the first bytes are not a TLS record; it must never answer the
   * plaintext, nor execute it inside TLS.
   */
  private static String secondWriteInjection(PosternTestServer server, int round) throws Exception {
    try (TlsSmtp c = TlsSmtp.connect(server.port())) {
      c.ehlo("client.test.example");
      Reply ready = c.command("STARTTLS");
      assertEquals(220, ready.code(), ready.toString());
      c.sendPlaintext(PROBE.getBytes(StandardCharsets.US_ASCII));
      // Anything the server sends now, before our ClientHello, must not be a plaintext SMTP reply.
      c.rawSocket().setSoTimeout(300);
      InputStream raw = c.rawSocket().getInputStream();
      try {
        int b = raw.read();
        assertFalse(b >= '0' && b <= '9', "round " + round + ": the server answered the injected plaintext");
        if (b < 0) {
          return "closed";
        }
        assertEquals(0x15, b, "round " + round + ": only a TLS alert may come back, got byte " + b);
        return "alert";
      } catch (SocketTimeoutException quiet) {
        // Nothing came back: go on with the handshake.
      } catch (IOException reset) {
        return "reset";
      }
      try {
        c.handshake(pki.clientContext(), s -> { });
      } catch (IOException handshakeFailed) {
        return "handshake failed";
      }
      try {
        assertCleanTlsSession(c);
      } catch (IOException closedAfterHandshake) {
        // TLS 1.3: the server may only notice the garbage after the client has finished.
        return "closed after handshake: " + closedAfterHandshake.getMessage();
      }
      return "tls session clean";
    }
  }

  @Test
  void laterPacketInjectionIsNeverExecutedWhenSyncIsNotEnforced() throws Exception {
    for (int i = 0; i < ROUNDS; i++) {
      System.out.println("later-packet injection, smtp_enforce_sync false, round " + i + ": "
          + secondWriteInjection(lenient, i));
    }
    TlsTesting.assertServesStartTls(lenient, pki);
  }

  @Test
  void laterPacketInjectionIsNeverExecutedByDefault() throws Exception {
    for (int i = 0; i < ROUNDS; i++) {
      System.out.println("later-packet injection, smtp_enforce_sync true, round " + i + ": "
          + secondWriteInjection(strict, i));
    }
    TlsTesting.assertServesStartTls(strict, pki);
  }

  @Test
  void injectedQuitIsNotExecutedEither() throws Exception {
    // A probe whose effect would be visible even without a transaction: QUIT would end the session.
    try (TlsSmtp c = TlsSmtp.connect(lenient.port())) {
      c.ehlo("client.test.example");
      c.send("STARTTLS\r\nQUIT\r\n");
      assertEquals(220, c.reply().code());
      c.handshake(pki.clientContext(), s -> { });
      Reply ehlo = c.ehlo("client.test.example");
      assertEquals(250, ehlo.code());
      assertEquals(250, c.command("NOOP").code(), "the session must still be open");
    }
  }

  @Test
  void pipelinedCommandsBeforeStartTlsAreStillAnswered() throws Exception {
    // The control: input before STARTTLS in the same write is legitimate pipelining and is answered in clear.
    try (TlsSmtp c = TlsSmtp.connect(lenient.port())) {
      c.send("EHLO client.test.example\r\nNOOP\r\nSTARTTLS\r\n");
      Reply ehlo = c.reply();
      assertEquals(250, ehlo.code(), ehlo.toString());
      assertEquals(250, c.reply().code());
      assertEquals(220, c.reply().code());
      c.handshake(pki.clientContext(), s -> { });
      assertCleanTlsSession(c);
    }
  }
}
