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
import org.postern.bus.DeliveryDsn;
import org.postern.bus.DeliveryStatus;
import org.postern.testing.ScriptedSmtpServer;
import org.postern.testing.TestPki;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.delivery.smtp.SmtpClientTesting.dataFile;
import static org.postern.delivery.smtp.SmtpClientTesting.deliver;
import static org.postern.delivery.smtp.SmtpClientTesting.host;
import static org.postern.delivery.smtp.SmtpClientTesting.options;
import static org.postern.delivery.smtp.SmtpClientTesting.started;

/** SMTPUTF8 (RFC 6531 3.7.5) and REQUIRETLS (RFC 8689 4.2.1) decide what a next hop is sent. */
@ExtendWith(VertxExtension.class)
@Timeout(60)
class NextHopRequirementsTest {
  private static final String BODY = "Subject: Grüße\r\n\r\nbody\r\n";
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
  void setUp(Vertx vertx) {
    client = vertx.createNetClient();
    try {
      ca = pki.writeCa(dir.resolve("certs")).toString();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private MessageResult send(Vertx vertx, ScriptedSmtpServer server, String yaml, String sender, boolean utf8,
                             boolean requireTls, String... recipients) throws Exception {
    Path data = dataFile(dir, "m", BODY);
    return deliver(vertx, client, host(server), options(dir, yaml),
        new OutboundMessage(sender, List.of(recipients), data, Files.size(data), true, DeliveryDsn.NONE, utf8,
            requireTls));
  }

  /** The scripted server reads lines as ISO-8859-1: its view of the UTF-8 octets sent. */
  private static String utf8(String latin1) {
    return new String(latin1.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
  }

  @Test
  void utf8AddressesGoWithSmtpUtf8ToAHopOfferingIt(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().advertise("SMTPUTF8"));
    MessageResult r = send(vertx, server, "port: 25\n", "jürgen@bücher.example", true, false, "zoë@bücher.example");
    assertEquals(DeliveryStatus.DELIVERED, r.recipients().get(0).status(), r.toString());
    String mail = utf8(server.commands("MAIL").get(0).line());
    assertTrue(mail.startsWith("MAIL FROM:<jürgen@bücher.example> SIZE="), mail);
    assertTrue(mail.endsWith(" BODY=8BITMIME SMTPUTF8"), mail);
    assertEquals("RCPT TO:<zoë@bücher.example>", utf8(server.commands("RCPT").get(0).line()));
  }

  @Test
  void utf8LocalPartFailsWith567AtAHopWithoutSmtpUtf8AndIsNeverSent(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create());
    MessageResult r = send(vertx, server, "port: 25\n", "a@example.org", true, false,
        "zoë@example.net", "bob@bücher.example");
    RecipientResult zoe = r.recipients().get(0);
    assertEquals(DeliveryStatus.FAILED, zoe.status(), r.toString());
    assertEquals("5.6.7", zoe.enhanced());
    // Only the domain is UTF-8: A-labels, no SMTPUTF8.
    assertEquals(DeliveryStatus.DELIVERED, r.recipients().get(1).status(), r.toString());
    assertEquals(List.of("RCPT TO:<bob@xn--bcher-kva.example>"),
        server.commands("RCPT").stream().map(ScriptedSmtpServer.Command::line).toList());
    assertTrue(!server.commands("MAIL").get(0).line().contains("SMTPUTF8"), server.commands("MAIL").toString());
  }

  @Test
  void utf8SenderFailsEveryRecipientAtAHopWithoutSmtpUtf8(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create());
    MessageResult r = send(vertx, server, "port: 25\n", "jürgen@example.org", true, false, "bob@example.net");
    assertEquals(DeliveryStatus.FAILED, r.recipients().get(0).status(), r.toString());
    assertEquals("5.6.7", r.recipients().get(0).enhanced());
    assertEquals(0, server.commands("MAIL").size());
  }

  @Test
  void requireTlsFailsWithoutStartTls(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().advertise("REQUIRETLS"));
    assertRequireTlsRefused(send(vertx, server, "port: 25\ntls_verify_certificates: " + ca + "\n",
        "a@example.org", false, true, "bob@example.net"), server);
  }

  @Test
  void requireTlsFailsWithAnUnverifiableCertificate(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().startTls(selfSigned).advertise("REQUIRETLS"));
    assertRequireTlsRefused(send(vertx, server, "port: 25\ntls_verify_certificates: " + ca + "\n",
        "a@example.org", false, true, "bob@example.net"), server);
  }

  @Test
  void requireTlsFailsWithAVerifiedHopThatDoesNotOfferIt(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().startTls(pki.server()));
    assertRequireTlsRefused(send(vertx, server, "port: 25\ntls_verify_certificates: " + ca + "\n",
        "a@example.org", false, true, "bob@example.net"), server);
  }

  @Test
  void requireTlsGoesOverVerifiedTlsWithRequireTlsOnMail(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().startTls(pki.server()).advertise("REQUIRETLS"));
    MessageResult r = send(vertx, server, "port: 25\ntls_verify_certificates: " + ca + "\n",
        "a@example.org", false, true, "bob@example.net");
    assertEquals(DeliveryStatus.DELIVERED, r.recipients().get(0).status(), r.toString());
    ScriptedSmtpServer.Command mail = server.commands("MAIL").get(0);
    assertTrue(mail.tls());
    assertTrue(mail.line().endsWith(" REQUIRETLS"), mail.line());
  }

  /**
   * A connection opened for TLS-Required: No (RFC 8689 5) that went on in clear despite
   * hosts_require_tls refuses, unsent, a message without the field, and still takes those with it.
   */
  @Test
  void aConnectionSparedTheTlsPolicyTakesOnlyMessagesThatAskedForIt(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create());
    Path data = dataFile(dir, "m", BODY);
    org.postern.config.SmtpTransportOptions o = options(dir, "port: 25\nhosts_require_tls: \"*\"\n");
    SmtpClientConnection c = SmtpClientTesting.await(SmtpClientConnection.open(vertx, client, host(server), o,
        SmtpClientTesting.await(ClientTls.load(vertx, o)), true));
    MessageResult needy = SmtpClientTesting.await(c.send(new OutboundMessage("a@example.org", List.of("bob@example.net"),
        data, Files.size(data), false, DeliveryDsn.NONE, false, false, false)));
    assertEquals(DeliveryStatus.DEFERRED, needy.recipients().get(0).status(), needy.toString());
    assertEquals("connection opened for TLS-Required: No messages only", needy.hostProblem());
    assertEquals(0, server.commands("MAIL").size(), "nothing of it was sent");
    MessageResult waived = SmtpClientTesting.await(c.send(new OutboundMessage("a@example.org",
        List.of("carol@example.net"), data, Files.size(data), false, DeliveryDsn.NONE, false, false, true)));
    assertEquals(DeliveryStatus.DELIVERED, waived.recipients().get(0).status(), waived.toString());
    assertTrue(waived.belowPolicy());
    assertTrue(c.usable());
    SmtpClientTesting.await(c.quit());
    assertEquals(List.of("carol@example.net"), server.envelopes().get(0).recipients());
    assertEquals(1, server.envelopes().size());
  }

  private static void assertRequireTlsRefused(MessageResult r, ScriptedSmtpServer server) {
    RecipientResult bob = r.recipients().get(0);
    assertEquals(DeliveryStatus.FAILED, bob.status(), r.toString());
    assertEquals("5.7.10", bob.enhanced(), bob.text());
    assertEquals(0, server.commands("MAIL").size(), "nothing of the message was sent");
  }
}
