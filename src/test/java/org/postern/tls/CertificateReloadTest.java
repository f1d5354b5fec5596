package org.postern.tls;

import org.postern.testing.Await;
import org.postern.testing.TlsSmtp;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postern.bus.Addresses;
import org.postern.bus.TlsScan;
import org.postern.listener.TlsVerticle;
import org.postern.testing.PosternTestServer;
import org.postern.testing.TrustEverything;
import org.postern.testing.PublishedEvents;
import org.postern.testing.SettableClock;
import org.postern.testing.SmtpTestClient.Reply;
import org.postern.testing.TestPki;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.bus.TlsScan.Outcome.UNCHANGED;

/**
 * Certificate hot reload: replacing the PEM files is picked up by new handshakes (STARTTLS and
 * implicit TLS) within a few seconds, sessions already in TLS go on, a broken replacement is
 * refused and the previous certificate stays in force. And the generated self-signed
 * certificate is made once, reused by the next start, and renewed before it expires.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CertificateReloadTest {
  private static final long RELOAD_WAIT_MS = 3000;
  private static TestPki pki;
  private static TestPki.Credential certB;
  private static TestPki.Credential certC;
  private static TestPki.Credential certD;
  private ListAppender<ILoggingEvent> tlsLog;

  @BeforeAll
  static void makeCertificates() throws Exception {
    pki = TestPki.shared();
    certB = pki.issueServer(TestPki.SERVER_NAME, false);
    certC = pki.issueServer(TestPki.SERVER_NAME, true);
    certD = pki.issueServer(TestPki.SERVER_NAME, false);
  }

  @BeforeEach
  void captureTlsLog() {
    tlsLog = new ListAppender<>();
    tlsLog.start();
    ((Logger) LoggerFactory.getLogger(TlsVerticle.class)).addAppender(tlsLog);
  }

  @AfterEach
  void releaseTlsLog() {
    ((Logger) LoggerFactory.getLogger(TlsVerticle.class)).detachAppender(tlsLog);
  }

  /** Replaces a file the way an admin (or certbot's deploy hook) should: write aside, then rename. */
  private static void replace(Path target, String content) throws IOException {
    Path tmp = target.resolveSibling(target.getFileName() + ".new");
    Files.writeString(tmp, content, StandardCharsets.US_ASCII);
    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  /** Key first, then certificate, each atomically. */
  private static void install(Path certs, TestPki.Credential credential) throws IOException {
    replace(certs.resolve("server.key"), TestPki.keyPem(credential,
        credential.key().getAlgorithm().equals("EC") ? TestPki.KeyFormat.TRADITIONAL : TestPki.KeyFormat.PKCS8));
    replace(certs.resolve("server.crt"), TestPki.pem(credential.certificate()));
  }

  private static String startTlsFingerprint(PosternTestServer s) throws Exception {
    try (TlsSmtp c = TlsSmtp.connect(s.port())) {
      c.ehlo("client.test.example");
      c.startTls(pki.clientContext());
      return TestPki.fingerprint(c.serverCertificate());
    }
  }

  private static String implicitFingerprint(PosternTestServer s) throws Exception {
    try (TlsSmtp c = TlsSmtp.implicit(null, TlsTesting.port(s, "smtps"), pki.clientContext())) {
      assertEquals(220, c.reply().code());
      return TestPki.fingerprint(c.serverCertificate());
    }
  }

  /** Polls until both kinds of new handshake present {@code expected}; returns the time it took. */
  private static long awaitPresented(PosternTestServer s, TestPki.Credential expected, long millis) throws Exception {
    long start = System.nanoTime();
    String want = expected.fingerprint() + " " + expected.fingerprint();
    String seen = Await.value(millis, () -> startTlsFingerprint(s) + " " + implicitFingerprint(s), want::equals);
    if (!seen.equals(want)) {
      throw new AssertionError("after " + millis + " ms new handshakes present STARTTLS, implicit: " + seen
          + "; expected " + expected.fingerprint());
    }
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
  }

  /** "TLS certificate refused" lines logged during this test (one server runs at a time in this class). */
  private List<String> refusals() {
    return tlsLog.list.stream().map(ILoggingEvent::getFormattedMessage)
        .filter(m -> m.contains("TLS certificate refused")).toList();
  }

  /** The position of the first scan with this outcome among those seen, or -1. */
  private static int indexOf(PublishedEvents scans, TlsScan.Outcome outcome) {
    List<io.vertx.core.json.JsonObject> seen = scans.seen();
    for (int i = 0; i < seen.size(); i++) {
      if (TlsScan.fromJson(seen.get(i)).outcome() == outcome) {
        return i;
      }
    }
    return -1;
  }

  /** Waits for a refusal beyond the first {@code before}; returns it. */
  private String awaitRefusal(int before, long millis) throws Exception {
    List<String> all = Await.value(millis, this::refusals, l -> l.size() > before);
    assertTrue(all.size() > before, "no \"TLS certificate refused\" within " + millis + " ms");
    return all.get(before);
  }

  @Test
  void replacedCertificateIsUsedByNewHandshakesWhileOpenSessionsGoOn() throws Exception {
    try (PosternTestServer s = TlsTesting.server(pki, true).start()) {
      Path certs = s.root().resolve("certs");
      assertEquals(pki.server().fingerprint(), startTlsFingerprint(s));
      assertEquals(pki.server().fingerprint(), implicitFingerprint(s));

      try (TlsSmtp open = TlsSmtp.connect(s.port());
           TlsSmtp openImplicit = TlsSmtp.implicit(null, TlsTesting.port(s, "smtps"), pki.clientContext())) {
        open.ehlo("client.test.example");
        open.startTls(pki.clientContext());
        open.ehlo("client.test.example");
        assertEquals(220, openImplicit.reply().code());
        openImplicit.ehlo("client.test.example");

        install(certs, certB);
        long took = awaitPresented(s, certB, RELOAD_WAIT_MS);
        System.out.println("certificate B in use by new handshakes after " + took + " ms");

        // The sessions opened with A go on, still with A.
        assertEquals(pki.server().fingerprint(), TestPki.fingerprint(open.serverCertificate()));
        assertEquals(250, open.command("NOOP").code());
        assertEquals(250, openImplicit.command("NOOP").code());
        String id = open.sendMessage("sender@client.test.example", "alice@test.example", "across a reload");
        assertTrue(TlsTesting.deliveredReceived(s, "alice", id).contains("with ESMTPS"));
        String id2 = openImplicit.sendMessage("sender@client.test.example", "alice@test.example", "implicit reload");
        assertTrue(TlsTesting.deliveredReceived(s, "alice", id2).contains("with ESMTPS"));
      }
    }
  }

  @Test
  void brokenReplacementIsRefusedAndThePreviousCertificateStays() throws Exception {
    try (PosternTestServer s = TlsTesting.server(pki, true).start()) {
      Path certs = s.root().resolve("certs");
      Path certFile = certs.resolve("server.crt");
      install(certs, certB);
      awaitPresented(s, certB, RELOAD_WAIT_MS);

      // Garbage instead of a certificate.
      replace(certFile, "-----BEGIN CERTIFICATE-----\nthis is not base64 !!\n-----END CERTIFICATE-----\n");
      // The refusal is the event that ends this reload: from then on B stays in force.
      awaitRefusal(0, RELOAD_WAIT_MS + 2000);
      assertEquals(certB.fingerprint(), startTlsFingerprint(s), "a broken certificate must not replace B");
      assertEquals(certB.fingerprint(), implicitFingerprint(s));
      assertTrue(TlsSmtp.keywords(ehlo(s)).contains("STARTTLS"), "STARTTLS must still be offered");

      // A valid certificate that does not match the key in place (D's certificate, B's key; both RSA).
      replace(certFile, TestPki.pem(certD.certificate()));
      Await.holdsWithin(RELOAD_WAIT_MS + 2000, () -> refusals().stream().anyMatch(m -> m.contains("does not match")));
      assertTrue(refusals().stream().anyMatch(m -> m.contains("does not match")),
          "a certificate that does not match the key must be refused: " + refusals());
      assertEquals(certB.fingerprint(), startTlsFingerprint(s), "a certificate without its key must not replace B");
      assertEquals(certB.fingerprint(), implicitFingerprint(s));

      // Then the matching key: D is taken, the watcher survived the failures.
      replace(certs.resolve("server.key"), TestPki.keyPem(certD, TestPki.KeyFormat.TRADITIONAL));
      awaitPresented(s, certD, RELOAD_WAIT_MS);

      // And a switch to an EC certificate (key first, then certificate).
      install(certs, certC);
      awaitPresented(s, certC, RELOAD_WAIT_MS);
    }
  }

  @Test
  void unchangedBrokenCertificateIsNotReloadedEverySecond() throws Exception {
    try (PosternTestServer s = TlsTesting.server(pki, false).start()) {
      Path certFile = s.root().resolve("certs").resolve("server.crt");
      try (PublishedEvents scans = PublishedEvents.on(s.vertx(), Addresses.TLS_SCANNED)) {
        replace(certFile, "garbage\n");
        awaitRefusal(0, RELOAD_WAIT_MS + 2000);
        int refusedAt = Await.value(RELOAD_WAIT_MS, () -> indexOf(scans, TlsScan.Outcome.FAILED), i -> i >= 0);
        assertTrue(refusedAt >= 0, "no scan failed: " + scans.seen());
        // Three more scans of the same broken file, one a second: none may load or log it again.
        scans.awaitNth(refusedAt + 4, RELOAD_WAIT_MS + 4000);
        List<TlsScan.Outcome> after = scans.seen().subList(refusedAt + 1, refusedAt + 4).stream()
            .map(j -> TlsScan.fromJson(j).outcome()).toList();
        assertEquals(List.of(UNCHANGED, UNCHANGED, UNCHANGED), after);
      }
      List<String> refused = refusals();
      assertEquals(pki.server().fingerprint(), startTlsFingerprint(s));
      assertEquals(1, refused.size(), "the same broken file was refused (and logged) again and again: "
          + refused.size() + " times in 4 scans");
    }
  }

  @Test
  void configurationChangeOfTlsCertificateAppliesWithoutRestart() throws Exception {
    try (PosternTestServer s = TlsTesting.server(pki, true).start()) {
      TestPki.ServerFiles b = pki.writeServer(s.root().resolve("certs"), "server-b", certB);
      s.option("tls_certificate", TlsTesting.quote(b.certificate()))
          .option("tls_privatekey", TlsTesting.quote(b.key()))
          .writeConfig();
      awaitPresented(s, certB, RELOAD_WAIT_MS + 2000);
    }
  }

  @Test
  void configurationChangeOfTlsProtocolsAppliesToBothListeners() throws Exception {
    try (PosternTestServer s = TlsTesting.server(pki, true).start()) {
      assertEquals("TLSv1.3", protocols(s));
      s.option("tls_protocols", "TLSv1.2").writeConfig();
      String seen = Await.value(RELOAD_WAIT_MS + 2000, () -> protocols(s), "TLSv1.2 TLSv1.2"::equals);
      assertEquals("TLSv1.2 TLSv1.2", seen, "STARTTLS and implicit TLS after tls_protocols changed to TLSv1.2");
    }
  }

  /** The protocol of a new STARTTLS session and of a new implicit-TLS session ("TLSv1.3" alone when both agree on it at start). */
  private static String protocols(PosternTestServer s) throws Exception {
    String starttls;
    try (TlsSmtp c = TlsSmtp.connect(s.port())) {
      c.ehlo("client.test.example");
      c.startTls(pki.clientContext());
      starttls = c.session().getProtocol();
    }
    String implicit;
    try (TlsSmtp c = TlsSmtp.implicit(null, TlsTesting.port(s, "smtps"), pki.clientContext())) {
      implicit = c.session().getProtocol();
    }
    return starttls.equals("TLSv1.3") && implicit.equals("TLSv1.3") ? "TLSv1.3" : starttls + " " + implicit;
  }

  @Test
  void brokenCertificateAtStartMeansNoStartTlsUntilItIsFixed() throws Exception {
    PosternTestServer server = TlsTesting.server(pki, false);
    Path certFile = server.root().resolve("certs").resolve("server.crt");
    Files.writeString(certFile, "not a certificate\n");
    try (PosternTestServer s = server.start()) {
      try (TlsSmtp c = TlsSmtp.connect(s.port())) {
        assertTrue(!TlsSmtp.keywords(c.ehlo("client.test.example")).contains("STARTTLS"),
            "STARTTLS must not be offered without a usable certificate");
        Reply r = c.command("STARTTLS");
        assertTrue(r.code() == 503 || r.code() == 454, r.toString());
        assertEquals(250, c.command("NOOP").code(), "the session goes on in clear");
      }
      replace(certFile, TestPki.pem(pki.server().certificate()));
      Await.holdsWithin(RELOAD_WAIT_MS, () -> TlsSmtp.keywords(ehlo(s)).contains("STARTTLS"));
      assertEquals(pki.server().fingerprint(), startTlsFingerprint(s), "STARTTLS once the certificate is fixed");
    }
  }

  @Test
  void refusalNamesTheBrokenFile() throws Exception {
    try (PosternTestServer s = TlsTesting.server(pki, false).start()) {
      Path certFile = s.root().resolve("certs").resolve("server.crt");
      replace(certFile, "-----BEGIN CERTIFICATE-----\nthis is not base64 !!\n-----END CERTIFICATE-----\n");
      String refusal = awaitRefusal(0, RELOAD_WAIT_MS + 2000);
      assertTrue(refusal.contains(certFile.toString()), "the log line must say which file is broken: " + refusal);
    }
  }

  private static Reply ehlo(PosternTestServer s) throws IOException {
    try (TlsSmtp c = TlsSmtp.connect(s.port())) {
      return c.ehlo("client.test.example");
    }
  }

  @Test
  void generatedSelfSignedCertificateIsReusedByTheNextStart() throws Exception {
    Path tlsDir = Files.createTempDirectory("postern-tls-dir");
    try {
      Path cert = tlsDir.resolve("postern.crt");
      Path key = tlsDir.resolve("postern.key");
      String first;
      byte[] certBytes;
      byte[] keyBytes;
      try (PosternTestServer s1 = PosternTestServer.create()
          .option("tls_directory", TlsTesting.quote(tlsDir)).option("tls_on_connect_ports", "\"\"").start()) {
        assertTrue(Files.exists(cert) && Files.exists(key), "postern.crt and postern.key must be generated");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));
        certBytes = Files.readAllBytes(cert);
        keyBytes = Files.readAllBytes(key);
        var generated = TestPki.readCertificates(cert).get(0);
        assertEquals(generated.getSubjectX500Principal(), generated.getIssuerX500Principal(), "self-signed");
        try (TlsSmtp c = TlsSmtp.connect(s1.port())) {
          c.ehlo("client.test.example");
          // Trusting exactly the generated file, with the name checked (mx.test.example).
          c.startTls(TestPki.trusting(generated));
          first = TestPki.fingerprint(c.serverCertificate());
          assertEquals(TestPki.fingerprint(generated), first);
        }
      }
      try (PosternTestServer s2 = PosternTestServer.create()
          .option("tls_directory", TlsTesting.quote(tlsDir)).option("tls_on_connect_ports", "\"\"").start()) {
        try (TlsSmtp c = TlsSmtp.connect(s2.port())) {
          c.ehlo("client.test.example");
          c.startTls(TestPki.trusting(TestPki.readCertificates(cert).get(0)));
          assertEquals(first, TestPki.fingerprint(c.serverCertificate()), "the second start must reuse the certificate");
        }
        assertArrayEquals(certBytes, Files.readAllBytes(cert), "postern.crt must not be rewritten");
        assertArrayEquals(keyBytes, Files.readAllBytes(key), "postern.key must not be rewritten");
      }
    } finally {
      try (var walk = Files.walk(tlsDir)) {
        walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  /**
   * The generated certificate is valid 90 days (it was 10 years) and renewed, with the same key,
   * once fewer than 30 days remain: while running, and at start. The server's clock is moved
   * forward; the client trusts anything, since the renewed certificate is valid only from the
   * moved clock on.
   */
  @Test
  void generatedCertificateLastsNinetyDaysAndIsRenewedWithTheSameKeyWhileRunningAndAtStart() throws Exception {
    Path tlsDir = Files.createTempDirectory("postern-tls-renew");
    SettableClock clock = new SettableClock(Instant.now());
    Path cert = tlsDir.resolve("postern.crt");
    try {
      X509Certificate first;
      try (PosternTestServer s = generating(tlsDir, clock).start()) {
        first = TestPki.readCertificates(cert).get(0);
        assertEquals(Duration.ofDays(90).plusHours(1),
            Duration.between(first.getNotBefore().toInstant(), first.getNotAfter().toInstant()));
        assertEquals(TestPki.fingerprint(first), servedFingerprint(s));

        clock.advance(Duration.ofDays(61));
        X509Certificate renewed = awaitRewritten(cert, first);
        assertEquals(first.getPublicKey(), renewed.getPublicKey(), "renewal keeps the key (DANE 3 1 1 pins survive)");
        assertTrue(renewed.getNotAfter().toInstant().isAfter(clock.instant().plus(Duration.ofDays(89))),
            renewed.getNotAfter().toString());
        Await.holdsWithin(RELOAD_WAIT_MS, () -> servedFingerprint(s).equals(TestPki.fingerprint(renewed)));
        assertEquals(TestPki.fingerprint(renewed), servedFingerprint(s), "new handshakes get the renewed certificate");
      }
      X509Certificate beforeStart = TestPki.readCertificates(cert).get(0);
      clock.advance(Duration.ofDays(70));
      try (PosternTestServer s = generating(tlsDir, clock).start()) {
        X509Certificate atStart = TestPki.readCertificates(cert).get(0);
        assertNotEquals(TestPki.fingerprint(beforeStart), TestPki.fingerprint(atStart), "renewed at start");
        assertEquals(beforeStart.getPublicKey(), atStart.getPublicKey());
        assertEquals(TestPki.fingerprint(atStart), servedFingerprint(s));
      }
    } finally {
      try (var walk = Files.walk(tlsDir)) {
        walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private static PosternTestServer generating(Path tlsDir, SettableClock clock) throws IOException {
    return PosternTestServer.create().option("tls_directory", TlsTesting.quote(tlsDir))
        .option("tls_on_connect_ports", "\"\"").replace(TlsVerticle.class.getName(), () -> new TlsVerticle(clock));
  }

  private static X509Certificate awaitRewritten(Path cert, X509Certificate previous) throws Exception {
    X509Certificate now = Await.value(RELOAD_WAIT_MS, () -> TestPki.readCertificates(cert).get(0), c -> !c.equals(previous));
    if (now.equals(previous)) {
      throw new AssertionError("the certificate due for renewal was not renewed within " + RELOAD_WAIT_MS + " ms");
    }
    return now;
  }

  private static String servedFingerprint(PosternTestServer s) throws Exception {
    X509TrustManager anything = new TrustEverything();
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, new TrustManager[] {anything}, null);
    try (TlsSmtp c = TlsSmtp.connect(s.port())) {
      c.ehlo("client.test.example");
      c.startTls(context);
      return TestPki.fingerprint(c.serverCertificate());
    }
  }
}
