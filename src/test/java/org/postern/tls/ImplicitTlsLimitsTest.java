package org.postern.tls;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postern.testing.Await;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient.Reply;
import org.postern.testing.TestPki;
import org.postern.testing.TlsSmtp;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Connection limits hold on the implicit-TLS port before any handshake (issue 11): a connection is
 * counted when it is accepted, not when Vert.x hands over the socket after the handshake, so
 * half-sent ClientHellos can neither exceed {@code smtp_accept_max_per_host} nor
 * {@code tls_handshake_max}, and {@code tls_handshake_timeout} frees their slots.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ImplicitTlsLimitsTest {
  private static final int PER_HOST = 5;
  private final List<TlsSmtp> open = new ArrayList<>();
  private PosternTestServer server;

  @AfterEach
  void stop() throws Exception {
    open.forEach(TlsSmtp::close);
    if (server != null) {
      server.close();
    }
  }

  private TlsSmtp halfOpen(String source, int port, byte[] partialHello) throws Exception {
    TlsSmtp c = TlsSmtp.open(source, port);
    open.add(c);
    if (partialHello.length > 0) {
      c.sendPlaintext(partialHello);
    }
    return c;
  }

  /** Milliseconds until the server closes {@code c} (failing after {@code millis}). */
  private static long closedWithin(TlsSmtp c, int millis) throws Exception {
    long start = System.nanoTime();
    TlsTesting.readUntilClosed(c, millis);
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
  }

  @Test
  void halfSentClientHellosAreCountedAgainstThePerHostLimitAndDroppedByTheHandshakeTimeout() throws Exception {
    TestPki pki = TestPki.shared();
    server = TlsTesting.server(pki, true).option("smtp_accept_max_per_host", Integer.toString(PER_HOST))
        .option("tls_handshake_timeout", "5s").start();
    int smtps = TlsTesting.port(server, "smtps");
    byte[] hello = TlsTesting.clientHello(pki);
    byte[] half = Arrays.copyOf(hello, hello.length / 2);
    List<TlsSmtp> held = new ArrayList<>();
    for (int i = 0; i < PER_HOST; i++) {
      // Half of them send half a ClientHello, the others nothing at all.
      held.add(halfOpen("127.0.0.1", smtps, i % 2 == 0 ? half : new byte[0]));
    }
    // Every slot of 127.0.0.1 is taken by a handshake in progress: the implicit-TLS port closes a
    // further connection without a handshake, well before the timeout (the listening channel
    // accepts in order, so this also shows that the five above have been counted)...
    closedWithin(halfOpen("127.0.0.1", smtps, half), 2500);
    assertTrue(TlsTesting.awaitMainlog("Connection from [127.0.0.1] refused: too many connections from that IP"
        + " address (smtp_accept_max_per_host=" + PER_HOST + ")", 5000).isPresent(), "refusal not logged");
    // ... the plain port says so at once...
    try (TlsSmtp plain = TlsSmtp.open("127.0.0.1", server.port())) {
      plain.timeout(2000);
      Reply refused = plain.reply();
      assertEquals(421, refused.code(), "half-open TLS connections must count against smtp_accept_max_per_host: "
          + refused);
      assertTrue(refused.toString().contains("4.7.0"), refused.toString());
    }
    // ... and another client still gets its banner promptly.
    long start = System.nanoTime();
    try (TlsSmtp other = TlsSmtp.open("127.0.0.2", server.port())) {
      other.timeout(2000);
      assertEquals(220, other.reply().code());
      assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start) < 2000);
    }
    // The stalled handshakes end at tls_handshake_timeout, and free their slots.
    for (TlsSmtp c : held) {
      closedWithin(c, 10_000);
    }
    try (TlsSmtp c = TlsSmtp.implicit("127.0.0.1", smtps, pki.clientContext())) {
      c.timeout(5000);
      assertEquals(220, c.reply().code());
    }
  }

  @Test
  void concurrentHandshakesAreBoundedByTlsHandshakeMax() throws Exception {
    TestPki pki = TestPki.shared();
    server = TlsTesting.server(pki, true).option("tls_handshake_max", "3")
        .option("tls_handshake_timeout", "5s").start();
    int smtps = TlsTesting.port(server, "smtps");
    List<TlsSmtp> held = new ArrayList<>();
    for (String source : new String[] {"127.0.0.3", "127.0.0.4", "127.0.0.5"}) {
      held.add(halfOpen(source, smtps, new byte[0]));
    }
    // Closed before the 5 s handshake timeout could do it.
    closedWithin(halfOpen("127.0.0.6", smtps, TlsTesting.clientHello(pki)), 2500);
    assertTrue(TlsTesting.awaitMainlog("Connection from [127.0.0.6] refused: too many TLS handshakes in progress"
        + " (tls_handshake_max=3)", 5000).isPresent(), "refusal not logged");
    // STARTTLS shares the bound: 454, and the session goes on in clear.
    try (TlsSmtp c = TlsSmtp.connectFrom("127.0.0.7", server.port())) {
      c.ehlo("client.test.example");
      Reply r = c.command("STARTTLS");
      assertEquals(454, r.code(), r.toString());
      assertEquals(250, c.command("NOOP").code());
    }
    for (TlsSmtp c : held) {
      closedWithin(c, 10_000);
    }
    try (TlsSmtp c = TlsSmtp.implicit("127.0.0.6", smtps, pki.clientContext())) {
      c.timeout(5000);
      assertEquals(220, c.reply().code());
    }
    TlsTesting.assertServesStartTls(server, pki);
  }

  /** A STARTTLS whose client vanishes mid-handshake gives its tls_handshake_max slot back. */
  @Test
  void startTlsHandshakeSlotsAreReleasedWhenClientsDropMidHandshake() throws Exception {
    TestPki pki = TestPki.shared();
    server = TlsTesting.server(pki, false).option("tls_handshake_max", "1").start();
    byte[] hello = TlsTesting.clientHello(pki);
    for (int i = 0; i < 3; i++) {
      try (TlsSmtp c = TlsSmtp.connect(server.port())) {
        c.ehlo("client.test.example");
        assertEquals(220, c.command("STARTTLS").code());
        c.sendPlaintext(Arrays.copyOf(hello, hello.length / 2));
        c.rawSocket().setSoLinger(true, 0);
      }
    }
    // The server notices the resets asynchronously: within a few seconds the one slot is free again.
    Await.until("the handshake slot to be released", 5000, () -> {
      try (TlsSmtp c = TlsSmtp.connect(server.port())) {
        c.ehlo("client.test.example");
        Reply r = c.command("STARTTLS");
        if (r.code() != 220) {
          assertEquals(454, r.code(), r.toString());
          return false;
        }
        c.handshake(pki.clientContext(), s -> { });
        assertEquals(250, c.command("NOOP").code());
        return true;
      }
    });
  }

  /** A scanner's failed handshakes: ten lines a minute per address by default, then one notice (issue 11). */
  @Test
  void failedHandshakesOfOneHostAreLoggedTenTimesAMinuteThenSummarised() throws Exception {
    TestPki pki = TestPki.shared();
    server = TlsTesting.server(pki, true).withoutOption("connection_error_log_rate").start();
    int smtps = TlsTesting.port(server, "smtps");
    int before = TlsTesting.mainlogLines("").size();
    for (int i = 0; i < 15; i++) {
      TlsSmtp c = halfOpen("127.0.0.8", smtps, "HELLO\r\n".getBytes(StandardCharsets.US_ASCII));
      closedWithin(c, 5000);
    }
    // Another address is logged as usual; once its line is there, every failure above has been handled.
    TlsSmtp other = halfOpen("127.0.0.9", smtps, "HELLO\r\n".getBytes(StandardCharsets.US_ASCII));
    closedWithin(other, 5000);
    assertTrue(TlsTesting.awaitMainlog("TLS error on connection from [127.0.0.9]:" + other.localPort(), 5000)
        .isPresent(), "the other address's failure is logged");
    List<String> lines = TlsTesting.mainlogLines("[127.0.0.8]");
    List<String> now = lines.subList(Math.max(0, lines.size() - 11), lines.size());
    assertEquals(10, now.stream().filter(l -> l.contains("TLS error on connection from [127.0.0.8]:")).count(),
        String.join("\n", now));
    assertTrue(now.get(10).contains("Connection errors from [127.0.0.8]: further lines not logged until "),
        now.get(10));
    assertTrue(TlsTesting.mainlogLines("").size() - before <= 12, "at most 12 new lines");
  }
}
