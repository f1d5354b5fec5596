package org.postern.delivery.smtp;

import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.postern.bus.DeliveryStatus;
import org.postern.testing.ScriptedSmtpServer;
import org.postern.testing.TestPki;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.delivery.smtp.SmtpClientTesting.await;
import static org.postern.delivery.smtp.SmtpClientTesting.dataFile;
import static org.postern.delivery.smtp.SmtpClientTesting.deliver;
import static org.postern.delivery.smtp.SmtpClientTesting.host;
import static org.postern.delivery.smtp.SmtpClientTesting.message;
import static org.postern.delivery.smtp.SmtpClientTesting.openFailure;
import static org.postern.delivery.smtp.SmtpClientTesting.options;
import static org.postern.delivery.smtp.SmtpClientTesting.started;

/** Client TLS with Exim's options, each shown with both outcomes. */
@ExtendWith(VertxExtension.class)
@Timeout(60)
class SmtpClientTlsTest {
  private static final String BODY = "Subject: t\r\n\r\nbody\r\n";
  private static TestPki pki;
  private static TestPki.Credential selfSigned;

  @TempDir
  Path dir;
  private NetClient client;
  private String ca;

  @BeforeAll
  static void pki() throws Exception {
    pki = TestPki.shared();
    selfSigned = TestPki.selfSigned("CN=" + TestPki.SERVER_NAME + ",O=Rogue");
  }

  @BeforeEach
  void setUp(Vertx vertx) throws Exception {
    client = vertx.createNetClient();
    ca = pki.writeCa(dir.resolve("certs")).toString();
  }

  private MessageResult deliverTo(Vertx vertx, ScriptedSmtpServer server, String yaml) throws Exception {
    return deliverTo(vertx, server, SmtpClientTesting.HOST_NAME, yaml);
  }

  private MessageResult deliverTo(Vertx vertx, ScriptedSmtpServer server, String hostName, String yaml)
      throws Exception {
    return deliver(vertx, client, host(hostName, server), options(dir, yaml),
        message(dataFile(dir, "m", BODY), "a@x.example"));
  }

  @Test
  void opportunisticTlsWhenOffered(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().startTls(pki.server()));
    MessageResult r = deliverTo(vertx, server, "port: 25\n");
    assertEquals(DeliveryStatus.DELIVERED, r.recipients().get(0).status());
    assertNotNull(r.tls());
    assertTrue(r.tls().cipher().matches("TLS1\\.[23]:TLS_\\w+:(128|256)"), r.tls().cipher());
    assertFalse(r.tls().verified(), "no tls_verify_certificates: nothing verified");
    assertEquals("CN=" + TestPki.SERVER_NAME + ",O=Postern Test", r.tls().peerDn());
    assertTrue(r.tls().logText().startsWith("X=" + r.tls().cipher() + " CV=no DN=\"CN=mx.test.example"));
    ScriptedSmtpServer.Envelope e = server.envelopes().get(0);
    assertTrue(e.tls());
    assertTrue(r.tls().cipher().contains(e.cipher()), e.cipher());
    assertEquals(2, server.commands("EHLO").size(), "EHLO again after TLS");
    assertTrue(server.commands("MAIL").get(0).tls());
  }

  @Test
  void smtpsSpeaksTlsFromTheFirstByte(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().implicitTls(pki.server()));
    MessageResult r = deliverTo(vertx, server, "protocol: smtps\ntls_verify_certificates: " + ca + "\n"
        + "tls_verify_hosts: \"*\"\n");
    assertEquals(DeliveryStatus.DELIVERED, r.recipients().get(0).status());
    assertTrue(r.tls().verified());
    assertTrue(r.tls().logText().startsWith("X=TLS1."), r.tls().logText());
    assertTrue(server.envelopes().get(0).tls());
    assertEquals(1, server.commands("EHLO").size(), "one EHLO, inside TLS");
    assertTrue(server.commands().stream().allMatch(ScriptedSmtpServer.Command::tls), "nothing in clear");
    assertEquals(0, server.commands("STARTTLS").size());
  }

  @Test
  void smtpsToAClearServerDefersAndNeverFallsBackToClear(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create());
    // tls_tempfail_tryclear is on by default: it must not apply to smtps.
    String why = openFailure(vertx, client, host(server), options(dir, "protocol: smtps\ncommand_timeout: 5s\n"));
    assertTrue(why.startsWith("TLS session: (SMTPS) handshake failed"), why);
    // The server takes the ClientHello for text lines; what matters is that no SMTP command followed.
    assertTrue(server.commands().stream().noneMatch(c -> c.line().matches("(?i)(EHLO|HELO|MAIL|RCPT|DATA|QUIT)\\b.*")),
        () -> "no SMTP command was sent in clear: " + server.commands());
    assertEquals(1, server.connections(), "no second connection in clear");
    assertEquals(0, server.envelopes().size());
  }

  @Test
  void smtpsWithAnUntrustedCertificateDefersWhereVerificationIsRequired(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().implicitTls(selfSigned));
    String why = openFailure(vertx, client, host(server), options(dir, "protocol: smtps\n"
        + "tls_verify_certificates: " + ca + "\ntls_verify_hosts: \"*\"\n"));
    assertTrue(why.startsWith("TLS session: certificate verification failed"), why);
    assertEquals(0, server.envelopes().size());
  }

  @Test
  void clearWhenNotOffered(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create());
    MessageResult r = deliverTo(vertx, server, "port: 25\n");
    assertEquals(DeliveryStatus.DELIVERED, r.recipients().get(0).status());
    assertNull(r.tls());
    assertFalse(server.envelopes().get(0).tls());
  }

  @Test
  void hostsAvoidTlsMatchingStaysInClear(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().startTls(pki.server()));
    MessageResult r = deliverTo(vertx, server, "hosts_avoid_tls: 127.0.0.1\n");
    assertNull(r.tls());
    assertEquals(0, server.commands("STARTTLS").size());
    assertFalse(server.envelopes().get(0).tls());
  }

  @Test
  void hostsAvoidTlsNotMatchingUsesTls(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().startTls(pki.server()));
    MessageResult r = deliverTo(vertx, server, "hosts_avoid_tls: \"192.0.2.1 : *.elsewhere.example\"\n");
    assertNotNull(r.tls());
    assertTrue(server.envelopes().get(0).tls());
  }

  @Test
  void hostsRequireTlsWithoutStartTlsDefersAndSendsNothingInClear(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create());
    assertEquals("TLS session required but not offered",
        openFailure(vertx, client, host(server), options(dir, "hosts_require_tls: 127.0.0.1\n")));
    assertEquals(0, server.commands("MAIL").size());
    assertEquals(0, server.commands("AUTH").size());
  }

  @Test
  void hostsRequireTlsWithStartTlsUsesTls(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().startTls(pki.server()).requireTls());
    MessageResult r = deliverTo(vertx, server, "hosts_require_tls: mx.test.example\n");
    assertEquals(DeliveryStatus.DELIVERED, r.recipients().get(0).status());
    assertNotNull(r.tls());
  }

  @Test
  void hostsRequireTlsAndStartTlsRefusedDefers(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().startTls(pki.server())
        .reply(ScriptedSmtpServer.Step.STARTTLS, 454));
    assertEquals("TLS session required but STARTTLS refused: 454 4.7.0 TLS not available now",
        openFailure(vertx, client, host(server), options(dir, "hosts_require_tls: \"*\"\n")));
    assertEquals(0, server.commands("MAIL").size());
  }

  @Test
  void startTlsRefusedWithoutRequirementGoesOnInClear(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().startTls(pki.server())
        .reply(ScriptedSmtpServer.Step.STARTTLS, 454));
    MessageResult r = deliverTo(vertx, server, "port: 25\n");
    assertEquals(DeliveryStatus.DELIVERED, r.recipients().get(0).status());
    assertNull(r.tls());
    assertEquals(1, server.connections());
  }

  @Test
  void brokenHandshakeIsRetriedInClearOnANewConnection(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().brokenStartTls());
    SmtpClientConnection c = await(SmtpClientConnection.open(vertx, client, host(server), options(dir, "port: 25\n")));
    MessageResult r = await(c.send(message(dataFile(dir, "m", BODY), "a@x.example")));
    await(c.quit());
    assertEquals(DeliveryStatus.DELIVERED, r.recipients().get(0).status());
    assertNull(r.tls());
    assertTrue(c.tlsFallback().startsWith("TLS session: (STARTTLS) handshake failed"), c.tlsFallback());
    assertEquals(2, server.connections());
    assertEquals(1, server.commands("STARTTLS").size(), "no second STARTTLS on the clear connection");
    assertEquals(2, server.envelopes().get(0).connection());
    assertFalse(server.envelopes().get(0).tls());
  }

  @Test
  void brokenHandshakeWithTlsRequiredDefers(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().brokenStartTls());
    String reason = openFailure(vertx, client, host(server), options(dir, "hosts_require_tls: 127.0.0.1\n"));
    assertTrue(reason.startsWith("TLS session: (STARTTLS) handshake failed"), reason);
    assertEquals(1, server.connections());
    assertEquals(0, server.commands("MAIL").size());
  }

  @Test
  void brokenHandshakeWithTempfailTryclearOffDefers(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().brokenStartTls());
    String reason = openFailure(vertx, client, host(server), options(dir, "tls_tempfail_tryclear: false\n"));
    assertTrue(reason.startsWith("TLS session: (STARTTLS) handshake failed"), reason);
    assertEquals(1, server.connections());
  }

  @Test
  void certificateFromTheTestCaVerifies(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().startTls(pki.server()));
    MessageResult r = deliverTo(vertx, server, "tls_verify_certificates: " + ca + "\ntls_verify_hosts: \"*\"\n");
    assertEquals(DeliveryStatus.DELIVERED, r.recipients().get(0).status());
    assertTrue(r.tls().verified(), r.tls().toString());
    assertTrue(r.tls().logText().contains(" CV=yes "), r.tls().logText());
  }

  @Test
  void selfSignedCertificateWithTlsVerifyHostsAndRequireTlsDefers(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().startTls(selfSigned));
    String reason = openFailure(vertx, client, host(server), options(dir, "tls_verify_certificates: " + ca
        + "\ntls_verify_hosts: 127.0.0.1\nhosts_require_tls: 127.0.0.1\n"));
    assertTrue(reason.startsWith("TLS session: certificate verification failed"), reason);
    assertEquals(0, server.commands("MAIL").size());
  }

  @Test
  void selfSignedCertificateWithTlsVerifyHostsAndTryclearOffDefers(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().startTls(selfSigned));
    String reason = openFailure(vertx, client, host(server), options(dir, "tls_verify_certificates: " + ca
        + "\ntls_verify_hosts: 127.0.0.1\ntls_tempfail_tryclear: false\n"));
    assertTrue(reason.startsWith("TLS session: certificate verification failed"), reason);
    assertEquals(0, server.commands("MAIL").size());
  }

  @Test
  void selfSignedCertificateWithTlsVerifyHostsOnlyFallsBackToClearAsExim(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().startTls(selfSigned));
    SmtpClientConnection c = await(SmtpClientConnection.open(vertx, client, host(server), options(dir,
        "tls_verify_certificates: " + ca + "\ntls_verify_hosts: 127.0.0.1\n")));
    MessageResult r = await(c.send(message(dataFile(dir, "m", BODY), "a@x.example")));
    await(c.quit());
    assertTrue(c.tlsFallback().startsWith("TLS session: certificate verification failed"), c.tlsFallback());
    assertNull(r.tls());
    assertEquals(2, server.connections());
    assertEquals(1, server.commands("MAIL").size());
    assertFalse(server.commands("MAIL").get(0).tls());
    assertEquals(2, server.commands("MAIL").get(0).connection(), "nothing sent on the failed TLS connection");
  }

  @Test
  void selfSignedCertificateOnlyTryVerifiedIsDeliveredWithCvNo(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().startTls(selfSigned));
    MessageResult r = deliverTo(vertx, server, "tls_verify_certificates: " + ca + "\ntls_try_verify_hosts: \"*\"\n");
    assertEquals(DeliveryStatus.DELIVERED, r.recipients().get(0).status());
    assertNotNull(r.tls());
    assertFalse(r.tls().verified());
    assertTrue(r.tls().logText().contains(" CV=no "), r.tls().logText());
    assertEquals(1, server.connections());
  }

  @Test
  void certificateNameMatchingTheHostVerifies(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().startTls(pki.server()));
    MessageResult r = deliverTo(vertx, server, "mx.test.example", "tls_verify_certificates: " + ca
        + "\ntls_verify_hosts: \"*\"\nhosts_require_tls: \"*\"\ntls_verify_cert_hostnames: \"*\"\n");
    assertTrue(r.tls().verified());
  }

  @Test
  void certificateNameNotMatchingTheHostFails(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().startTls(pki.server()));
    String reason = openFailure(vertx, client, host("other.example", server), options(dir,
        "tls_verify_certificates: " + ca + "\ntls_verify_hosts: \"*\"\nhosts_require_tls: \"*\"\n"));
    assertEquals("TLS session: certificate verification failed: certificate name mismatch: \"other.example\"",
        reason);
    assertEquals(0, server.commands("MAIL").size());
  }

  @Test
  void certificateNameIsNotCheckedOutsideTlsVerifyCertHostnames(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().startTls(pki.server()));
    MessageResult r = deliverTo(vertx, server, "other.example", "tls_verify_certificates: " + ca
        + "\ntls_verify_hosts: \"*\"\nhosts_require_tls: \"*\"\ntls_verify_cert_hostnames: mx.test.example\n");
    assertTrue(r.tls().verified(), "chain verified, name not required for other.example");
  }

  @Test
  void requiredCiphersTheServerDoesNotOfferFailTheHandshake(Vertx vertx) throws Exception {
    // TLS 1.2 only, with another suite (tls_require_ciphers, as with OpenSSL, leaves the TLS 1.3 suites on).
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().startTls(pki.server())
        .ciphers("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"));
    String reason = openFailure(vertx, client, host(server), options(dir,
        "tls_require_ciphers: ECDHE-RSA-AES256-GCM-SHA384\nhosts_require_tls: \"*\"\n"));
    assertTrue(reason.startsWith("TLS session: (STARTTLS) handshake failed"), reason);
  }

  @Test
  void requiredCiphersTheServerOffersAreUsed(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().startTls(pki.server())
        .ciphers("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"));
    MessageResult r = deliverTo(vertx, server, "tls_require_ciphers: ECDHE-RSA-AES256-GCM-SHA384\n"
        + "hosts_require_tls: \"*\"\n");
    assertEquals("TLS1.2:TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384:256", r.tls().cipher());
  }

  @Test
  void clientCertificateIsPresented(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().startTls(pki.server())
        .askClientCertificate());
    TestPki.ServerFiles files = pki.writeServer(dir.resolve("client"), "client", pki.client());
    deliverTo(vertx, server, "tls_certificate: " + files.certificate() + "\ntls_privatekey: " + files.key() + "\n");
    assertEquals(TestPki.CLIENT_DN, server.envelopes().get(0).clientDn());
  }

  @Test
  void noClientCertificateWithoutTlsCertificate(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().startTls(pki.server())
        .askClientCertificate());
    deliverTo(vertx, server, "port: 25\n");
    assertTrue(server.envelopes().get(0).tls());
    assertNull(server.envelopes().get(0).clientDn());
  }

  @Test
  void repliesInjectedBeforeTheHandshakeAreIgnored(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().startTls(pki.server())
        .injectAfterStartTls("550 5.0.0 injected\r\n"));
    MessageResult r = deliverTo(vertx, server, "port: 25\n");
    assertEquals(DeliveryStatus.DELIVERED, r.recipients().get(0).status());
    assertNotNull(r.tls());
    assertEquals(0, server.commands("HELO").size(), "the injected 550 was not taken as the answer to EHLO");
    assertTrue(server.envelopes().get(0).mailParameters().startsWith("SIZE="), "EHLO answer inside TLS was used");
  }

  @Test
  void tlsSniIsSentOnlyWhenConfigured(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().startTls(pki.server()));
    deliverTo(vertx, server, "tls_sni: mx.test.example\n");
    deliverTo(vertx, server, "port: 25\n");
    assertEquals("mx.test.example", server.envelopes().get(0).sni());
    assertNull(server.envelopes().get(1).sni(), "no tls_sni, no server name indication (Exim's default)");
  }
}
