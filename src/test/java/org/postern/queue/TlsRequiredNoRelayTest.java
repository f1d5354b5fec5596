package org.postern.queue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.postern.spool.Envelope;
import org.postern.spool.Spool;
import org.postern.testing.PosternTestServer;
import org.postern.testing.ScriptedServers;
import org.postern.testing.ScriptedSmtpServer;
import org.postern.testing.TestPki;
import org.postern.testing.TlsSmtp;

import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.queue.RelayTesting.awaitLog;
import static org.postern.queue.RelayTesting.manualroute;
import static org.postern.queue.RelayTesting.send;

/**
 * RFC 8689 5: a message with {@code TLS-Required: No} is not held back by the smtp transport's TLS
 * policy ({@code hosts_require_tls}, {@code tls_verify_hosts}), STARTTLS is still used where offered,
 * REQUIRETLS on MAIL wins over the field, and a connection spared the policy never carries a message
 * that needs it.
 */
@Timeout(120)
class TlsRequiredNoRelayTest {
  private static final String PLAIN = "Subject: needs TLS\r\n\r\nbody\r\n";
  private static final String WAIVED = "Subject: any way will do\r\nTLS-Required: No\r\n\r\nbody\r\n.. a dot line\r\n";
  private static final String REQUIRE_TLS = "{ remote_smtp: { driver: smtp, hosts_require_tls: \"*\", command_timeout: 5s } }";
  @RegisterExtension
  static final ScriptedServers REMOTES = new ScriptedServers();
  @TempDir
  Path dir;

  private static PosternTestServer relay(ScriptedSmtpServer remote, String transports) throws Exception {
    return PosternTestServer.create().option("routers", manualroute("127.0.0.1::" + remote.port()))
        .option("transports", transports).start();
  }

  @Test
  void tlsRequiredNoGoesInClearDespiteHostsRequireTlsAndSaysSoOnTheDeliveryLine() throws Exception {
    ScriptedSmtpServer remote = REMOTES.start(ScriptedSmtpServer.create());
    try (PosternTestServer server = relay(remote, REQUIRE_TLS)) {
      String id = send(server, "alice@test.example", WAIVED, "bob@remote.example");
      String line = awaitLog(id, " => bob@remote.example");
      assertTrue(line.contains(" H=[127.0.0.1]:" + remote.port() + " TLS-Required=No C=\"250 "), line);
      assertFalse(line.contains(" X="), line);
      awaitLog(id, " Completed");
      ScriptedSmtpServer.Envelope got = remote.envelopes().get(0);
      assertFalse(got.tls());
      // The message as sent, the field passed on, after the one Received: Postern adds (folded lines).
      // The client's ".." line is ". a dot line" in the message (RFC 5321 4.5.2), stuffed again on the way out.
      String stored = WAIVED.replace("\r\n..", "\r\n.");
      String text = got.text();
      assertTrue(text.endsWith("\r\n" + stored), text);
      String prefix = text.substring(0, text.length() - stored.length());
      assertTrue(Pattern.compile("Received: [^\r\n]*(\r\n[ \t][^\r\n]*)*\r\n").matcher(prefix).matches(), prefix);
    }
  }

  @Test
  void withoutTheFieldHostsRequireTlsDefersAsBefore() throws Exception {
    ScriptedSmtpServer remote = REMOTES.start(ScriptedSmtpServer.create());
    try (PosternTestServer server = relay(remote, REQUIRE_TLS)) {
      String id = send(server, "alice@test.example", PLAIN, "bob@remote.example");
      String line = awaitLog(id, " == bob@remote.example");
      assertTrue(line.contains("TLS session required but not offered"), line);
      assertEquals(0, remote.commands("MAIL").size(), remote.commands().toString());
    }
  }

  @Test
  void anAdminCanRefuseToHonourTheField() throws Exception {
    ScriptedSmtpServer remote = REMOTES.start(ScriptedSmtpServer.create());
    try (PosternTestServer server = relay(remote,
        "{ remote_smtp: { driver: smtp, hosts_require_tls: \"*\", honour_tls_required_no: false, command_timeout: 5s } }")) {
      String id = send(server, "alice@test.example", WAIVED, "bob@remote.example");
      String line = awaitLog(id, " == bob@remote.example");
      assertTrue(line.contains("TLS session required but not offered"), line);
      assertEquals(0, remote.commands("MAIL").size(), remote.commands().toString());
    }
  }

  @Test
  void anUnverifiableCertificateKeepsTlsForTheFieldAndDefersWithoutIt() throws Exception {
    TestPki.Credential rogue = TestPki.selfSigned("CN=" + TestPki.SERVER_NAME + ",O=Rogue");
    ScriptedSmtpServer remote = REMOTES.start(ScriptedSmtpServer.create().startTls(rogue));
    String ca = TestPki.shared().writeCa(dir.resolve("certs")).toString();
    try (PosternTestServer server = relay(remote, "{ remote_smtp: { driver: smtp, hosts_require_tls: \"*\", "
        + "tls_verify_certificates: \"" + ca + "\", tls_verify_hosts: \"*\", command_timeout: 5s } }")) {
      // The waived one first: the other's deferral holds the host back (retry hints) for every message.
      String waived = send(server, "alice@test.example", WAIVED, "bob@remote.example");
      String line = awaitLog(waived, " => bob@remote.example");
      assertTrue(line.contains(" X=TLS1."), line);
      assertTrue(line.contains(" CV=no"), line);
      assertTrue(line.contains(" TLS-Required=No C="), line);
      String plain = send(server, "alice@test.example", PLAIN, "carol@remote.example");
      assertTrue(awaitLog(plain, " == carol@remote.example").contains("certificate verification failed"));
      assertEquals(1, remote.envelopes().size());
      assertTrue(remote.envelopes().get(0).tls(), "STARTTLS is still used");
      assertEquals(List.of("bob@remote.example"), remote.envelopes().get(0).recipients());
    }
  }

  /** A failed handshake: retried in clear on a new connection, even where tls_tempfail_tryclear says no. */
  @Test
  void aFailedHandshakeGoesOnInClearForTheFieldEvenWithoutTlsTempfailTryclear() throws Exception {
    ScriptedSmtpServer remote = REMOTES.start(ScriptedSmtpServer.create().brokenStartTls());
    try (PosternTestServer server = relay(remote, "{ remote_smtp: { driver: smtp, hosts_require_tls: \"*\", "
        + "tls_tempfail_tryclear: false, command_timeout: 5s } }")) {
      String id = send(server, "alice@test.example", WAIVED, "bob@remote.example");
      String line = awaitLog(id, " => bob@remote.example");
      assertTrue(line.contains(" TLS-Required=No C=\"250 "), line);
      assertFalse(line.contains(" X="), line);
      assertEquals(2, remote.connections(), "the handshake's, then one in clear");
      assertFalse(remote.envelopes().get(0).tls());
    }
  }

  /**
   * Two TLS-Required: No messages and one that needs TLS, queued for the same host and delivered one
   * after the other: the waived ones share a clear connection, the other never gets onto it.
   */
  @Test
  void aConnectionInClearForTheFieldNeverCarriesAMessageThatNeedsTls() throws Exception {
    ScriptedSmtpServer remote = REMOTES.start(ScriptedSmtpServer.create());
    try (PosternTestServer server = PosternTestServer.create()
        .option("routers", manualroute("127.0.0.1::" + remote.port()))
        .option("transports", REQUIRE_TLS).option("queue_only", "true").option("remote_max_parallel", "1").start()) {
      String first = send(server, "alice@test.example", WAIVED, "one@remote.example");
      String needy = send(server, "alice@test.example", PLAIN, "two@remote.example");
      String last = send(server, "alice@test.example", WAIVED, "three@remote.example");
      RelayTesting.runUntilStarted(server, new io.vertx.core.json.JsonObject());
      awaitLog(first, " Completed");
      awaitLog(last, " Completed");
      assertTrue(awaitLog(needy, " == two@remote.example").contains("TLS session required but not offered"));
      assertEquals(2, remote.envelopes().size(), remote.commands().toString());
      remote.envelopes().forEach(e -> assertFalse(e.recipients().contains("two@remote.example"), e.toString()));
      assertEquals(2, remote.commands("MAIL").size(), remote.commands().toString());
    }
  }

  /** RFC 8689 4.1: with REQUIRETLS on MAIL the field is ignored; the message fails with 5.7.10 unsent. */
  @Test
  void requireTlsWinsOverTheField() throws Exception {
    ScriptedSmtpServer remote = REMOTES.start(ScriptedSmtpServer.create().advertise("REQUIRETLS"));
    try (PosternTestServer server = relay(remote, "{ remote_smtp: { driver: smtp, command_timeout: 5s } }")) {
      String id = TlsSmtp.submitRequireTls(server.port(), "alice@test.example", "bob@remote.example",
          WAIVED);
      String line = awaitLog(id, " ** bob@remote.example");
      assertTrue(line.contains("REQUIRETLS: the next hop did not use TLS"), line);
      awaitLog(id, " Completed");
      assertEquals(0, remote.commands("MAIL").size(), remote.commands().toString());
      assertTrue(remote.envelopes().isEmpty());
    }
  }

  /** The field is found once, at receipt, and kept in the envelope. */
  @Test
  void theEnvelopeIsMarkedAtReceipt() throws Exception {
    try (PosternTestServer server = PosternTestServer.create().option("queue_only", "true").start()) {
      String waived = send(server, "alice@test.example", WAIVED, "bob@remote.example");
      String plain = send(server, "alice@test.example", PLAIN, "bob@remote.example");
      Spool spool = new Spool(server.root().resolve("spool"));
      Envelope e = spool.readEnvelope(waived);
      assertTrue(e.tlsRequiredNo());
      assertFalse(e.requireTls());
      assertFalse(spool.readEnvelope(plain).tlsRequiredNo());
    }
  }
}
