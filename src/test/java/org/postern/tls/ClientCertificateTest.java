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

import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Client certificates: {@code tls_try_verify_hosts} (asked for, verdict recorded as CV=yes/no),
 * {@code tls_verify_hosts} (no verified certificate, no session) on STARTTLS and implicit TLS, the
 * per-host lists, and the {@code verify: certificate} ACL condition. The rogue certificate carries
 * the very same subject DN as the CA-signed one, so only real verification tells them apart.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ClientCertificateTest {
  private static final String DN = TestPki.CLIENT_DN;
  private static TestPki pki;
  /** tls_try_verify_hosts: 127.0.0.1. */
  private static PosternTestServer trying;
  /** tls_verify_hosts: 127.0.0.1, with an implicit-TLS listener too. */
  private static PosternTestServer requiring;
  /** tls_verify_hosts: 127.0.0.2 only. */
  private static PosternTestServer requiringOther;
  /** tls_try_verify_hosts: 127.0.0.1 and acl_smtp_mail requiring verify: certificate. */
  private static PosternTestServer aclServer;

  @BeforeAll
  static void start() throws Exception {
    pki = TestPki.shared();
    trying = withCa(TlsTesting.server(pki, false)).option("tls_try_verify_hosts", "127.0.0.1").start();
    requiring = withCa(TlsTesting.server(pki, true)).option("tls_verify_hosts", "\"<; 127.0.0.1 ; ::1\"").start();
    requiringOther = withCa(TlsTesting.server(pki, false)).option("tls_verify_hosts", "127.0.0.2").start();
    String acl = Files.readString(Path.of("conf", "acl.yaml"), StandardCharsets.UTF_8) + "\n"
        + "acl_check_mail:\n"
        + "  - require: { verify: certificate }\n"
        + "  - accept: {}\n";
    aclServer = withCa(TlsTesting.server(pki, false)).option("tls_try_verify_hosts", "127.0.0.1")
        .acl(acl).option("acl_smtp_mail", "acl_check_mail").start();
  }

  private static PosternTestServer withCa(PosternTestServer s) {
    return s.option("tls_verify_certificates", TlsTesting.quote(TlsTesting.caFile(s)));
  }

  @AfterAll
  static void stop() throws Exception {
    PosternTestServer.closeAll(trying, requiring, requiringOther, aclServer);
  }

  /** STARTTLS from {@code source} with {@code context}, EHLO, one message to alice; returns its id. */
  private static String deliver(PosternTestServer s, String source, SSLContext context) throws Exception {
    try (TlsSmtp c = TlsSmtp.connectFrom(source, s.port())) {
      c.ehlo("client.test.example");
      c.startTls(context);
      c.ehlo("client.test.example");
      String id = c.sendMessage("sender@client.test.example", "alice@test.example", "client certificate");
      assertEquals(221, c.command("QUIT").code());
      return id;
    }
  }

  /**
   * STARTTLS must not yield a usable session: the handshake fails, or (TLS 1.3, where the client
   * finishes before the server has checked its certificate) the first read after it fails.
   */
  private static void assertStartTlsRejected(PosternTestServer s, String source, SSLContext context) throws Exception {
    try (TlsSmtp c = TlsSmtp.connectFrom(source, s.port())) {
      c.ehlo("client.test.example");
      try {
        c.startTls(context);
        Reply r = c.command("EHLO client.test.example");
        fail("the session must not go on without a verified certificate, got " + r);
      } catch (IOException expected) {
        // javax.net.ssl.SSLException (alert), reset or EOF
      }
      assertTrue(TlsTesting.awaitMainlog("TLS error on connection from [" + source + "]:" + c.localPort(), 5000)
          .isPresent(), "the failed handshake must be logged");
    }
  }

  // ---------------------------------------------------------------------------------------------
  // tls_try_verify_hosts

  @Test
  void tryVerifyWithCaSignedCertificateIsVerified() throws Exception {
    String id = deliver(trying, "127.0.0.1", pki.clientContext(pki.client()));
    String log = TlsTesting.arrivalLine(id);
    assertTrue(log.contains(" CV=yes DN=\"" + DN + "\""), log);
    String received = TlsTesting.deliveredReceived(trying, "alice", id);
    assertTrue(received.contains("(peer DN CN=client.test.example,O=Postern"), received);
  }

  @Test
  void tryVerifyWithRogueCertificateStillConnectsButIsNotVerified() throws Exception {
    String id = deliver(trying, "127.0.0.1", pki.clientContext(pki.rogue()));
    String log = TlsTesting.arrivalLine(id);
    assertTrue(log.contains(" CV=no"), log);
    assertFalse(log.contains("CV=yes"), log);
  }

  @Test
  void tryVerifyWithoutCertificateConnectsUnverified() throws Exception {
    String id = deliver(trying, "127.0.0.1", pki.clientContext());
    String log = TlsTesting.arrivalLine(id);
    assertTrue(log.contains(" CV=no"), log);
    assertFalse(log.contains(" DN="), log);
    assertFalse(TlsTesting.deliveredReceived(trying, "alice", id).contains("peer DN"));
  }

  @Test
  void hostOutsideTryVerifyHostsIsNotAskedForACertificate() throws Exception {
    // 127.0.0.2 is in neither list: no CertificateRequest, so the client's certificate is never sent.
    String id = deliver(trying, "127.0.0.2", pki.clientContext(pki.client()));
    String log = TlsTesting.arrivalLine(id);
    assertTrue(log.contains(" CV=no"), log);
    assertFalse(log.contains(" DN="), log);
  }

  // ---------------------------------------------------------------------------------------------
  // tls_verify_hosts

  @Test
  void verifyHostsWithCaSignedCertificateSucceeds() throws Exception {
    String id = deliver(requiring, "127.0.0.1", pki.clientContext(pki.client()));
    String log = TlsTesting.arrivalLine(id);
    assertTrue(log.contains(" CV=yes DN=\"" + DN + "\""), log);
  }

  @Test
  void verifyHostsRefusesRogueCertificate() throws Exception {
    assertStartTlsRejected(requiring, "127.0.0.1", pki.clientContext(pki.rogue()));
    TlsTesting.assertServesStartTlsWith(requiring, pki.clientContext(pki.client()));
  }

  @Test
  void verifyHostsRefusesClientWithoutCertificate() throws Exception {
    assertStartTlsRejected(requiring, "127.0.0.1", pki.clientContext());
    TlsTesting.assertServesStartTlsWith(requiring, pki.clientContext(pki.client()));
  }

  @Test
  void verifyHostsAppliesOnlyToListedHosts() throws Exception {
    // tls_verify_hosts = 127.0.0.2: a client from 127.0.0.1 needs no certificate ...
    String id = deliver(requiringOther, "127.0.0.1", pki.clientContext());
    assertTrue(TlsTesting.arrivalLine(id).contains(" CV=no"));
    // ... but one from 127.0.0.2 does.
    assertStartTlsRejected(requiringOther, "127.0.0.2", pki.clientContext());
    String verified = deliver(requiringOther, "127.0.0.2", pki.clientContext(pki.client()));
    assertTrue(TlsTesting.arrivalLine(verified).contains(" CV=yes DN=\"" + DN + "\""));
  }

  @Test
  void implicitTlsWithoutCertificateFromVerifyHostIsClosedWithoutGreeting() throws Exception {
    int smtps = TlsTesting.port(requiring, "smtps");
    for (SSLContext context : new SSLContext[] {pki.clientContext(), pki.clientContext(pki.rogue())}) {
      int localPort;
      try (TlsSmtp c = TlsSmtp.open("127.0.0.1", smtps)) {
        localPort = c.localPort();
        try {
          c.handshake(context, s -> { });
          Reply r = c.reply();
          fail("no greeting may be sent without a verified certificate, got " + r);
        } catch (IOException expected) {
          // handshake failure, or closed after it
        }
      }
      assertTrue(TlsTesting.awaitMainlog("TLS error on connection from [127.0.0.1]:" + localPort, 5000).isPresent(),
          "refusal of port " + localPort + " must be logged");
    }
    // With the CA-signed certificate the same port greets and records the verified certificate.
    try (TlsSmtp c = TlsSmtp.implicit("127.0.0.1", smtps, pki.clientContext(pki.client()))) {
      assertEquals(220, c.reply().code());
      c.ehlo("client.test.example");
      String id = c.sendMessage("sender@client.test.example", "alice@test.example", "implicit verified");
      String log = TlsTesting.arrivalLine(id);
      assertTrue(log.contains(" P=esmtps") && log.contains(" CV=yes DN=\"" + DN + "\""), log);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // verify: certificate

  @Test
  void verifyCertificateAclCondition() throws Exception {
    try (TlsSmtp c = TlsSmtp.connect(aclServer.port())) {
      c.ehlo("client.test.example");
      Reply clear = c.command("MAIL FROM:<sender@client.test.example>");
      assertEquals(550, clear.code(), "no TLS, no certificate: " + clear);
    }
    try (TlsSmtp c = TlsSmtp.connect(aclServer.port())) {
      c.ehlo("client.test.example");
      c.startTls(pki.clientContext());
      c.ehlo("client.test.example");
      Reply none = c.command("MAIL FROM:<sender@client.test.example>");
      assertEquals(550, none.code(), "TLS without certificate: " + none);
    }
    try (TlsSmtp c = TlsSmtp.connect(aclServer.port())) {
      c.ehlo("client.test.example");
      c.startTls(pki.clientContext(pki.rogue()));
      c.ehlo("client.test.example");
      Reply rogue = c.command("MAIL FROM:<sender@client.test.example>");
      assertEquals(550, rogue.code(), "unverified certificate: " + rogue);
    }
    try (TlsSmtp c = TlsSmtp.connect(aclServer.port())) {
      c.ehlo("client.test.example");
      c.startTls(pki.clientContext(pki.client()));
      c.ehlo("client.test.example");
      Reply ok = c.command("MAIL FROM:<sender@client.test.example>");
      assertEquals(250, ok.code(), "verified certificate: " + ok);
    }
  }

  @Test
  void replacedCaBundleAppliesToNewHandshakes() throws Exception {
    String acl = Files.readString(Path.of("conf", "acl.yaml"), StandardCharsets.UTF_8) + "\n"
        + "acl_check_mail:\n"
        + "  - require: { verify: certificate }\n"
        + "  - accept: {}\n";
    try (PosternTestServer s = withCa(TlsTesting.server(pki, false)).option("tls_try_verify_hosts", "127.0.0.1")
        .acl(acl).option("acl_smtp_mail", "acl_check_mail").start()) {
      assertEquals(250, mailWithClientCertificate(s), "verified against the configured CA");
      // Another CA in the same file: the test CA's client certificate no longer verifies.
      Path ca = TlsTesting.caFile(s);
      Path tmp = ca.resolveSibling("ca.pem.new");
      Files.writeString(tmp, TestPki.pem(TestPki.selfSigned("CN=Other CA,O=Elsewhere").certificate()));
      Files.move(tmp, ca, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      int code = Await.value(3000, () -> mailWithClientCertificate(s), c -> c != 250);
      assertEquals(550, code, "after the CA bundle changed the client certificate must no longer verify");
    }
  }

  private static int mailWithClientCertificate(PosternTestServer s) throws Exception {
    try (TlsSmtp c = TlsSmtp.connect(s.port())) {
      c.ehlo("client.test.example");
      c.startTls(pki.clientContext(pki.client()));
      c.ehlo("client.test.example");
      return c.command("MAIL FROM:<sender@client.test.example>").code();
    }
  }
}
