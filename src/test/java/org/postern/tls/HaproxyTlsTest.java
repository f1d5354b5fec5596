package org.postern.tls;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postern.testing.Haproxy;
import org.postern.testing.MainLogFile;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient.Reply;
import org.postern.testing.TestPki;
import org.postern.testing.TlsSmtp;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TLS through a real HAProxy in TCP mode with {@code send-proxy-v2}: TLS ends at Postern, not at
 * the proxy. On the implicit-TLS port the PROXY header comes before the ClientHello and must be
 * taken off the stream before the handshake; STARTTLS works after a header as without one.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HaproxyTlsTest {
  private static TestPki pki;
  private static PosternTestServer server;

  @BeforeAll
  static void start() throws Exception {
    pki = TestPki.shared();
    server = TlsTesting.server(pki, true).option("hosts_proxy", Haproxy.SOURCE).start();
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  private static Haproxy haproxy(String listener) throws Exception {
    return Haproxy.start(server.root().resolve("haproxy"),
        List.of(Haproxy.server("postern", TlsTesting.port(server, listener), "send-proxy-v2")), "");
  }

  @Test
  void implicitTlsThroughHaproxyEndsAtPosternAndSeesTheClient() throws Exception {
    try (Haproxy haproxy = haproxy("smtps");
         TlsSmtp c = TlsSmtp.implicit(Haproxy.CLIENT, haproxy.port(), pki.clientContext())) {
      // Postern's own certificate: the handshake was with Postern, through the proxy.
      assertEquals(pki.server().fingerprint(), TestPki.fingerprint(c.serverCertificate()), haproxy.output());
      assertEquals(220, c.reply().code());
      Reply ehlo = c.ehlo("implicit.test.example");
      assertTrue(ehlo.lines().get(0).endsWith("[" + Haproxy.CLIENT + "]"), ehlo.toString());
      String id = c.sendMessage("sender@implicit.test.example", "alice@test.example", "implicit tls via haproxy");
      assertEquals(221, c.command("QUIT").code());
      String cipher = StartTlsTest.eximCipher(c.session());
      String log = TlsTesting.arrivalLine(id);
      assertTrue(log.contains(" H=(implicit.test.example) [127.0.0.2]:" + c.localPort() + " "), log);
      assertTrue(log.contains(" P=esmtps X=" + cipher + " "), log);
      assertFalse(log.contains(Haproxy.SOURCE), log);
      String received = TlsTesting.deliveredReceived(server, "alice", id);
      assertTrue(received.contains("[127.0.0.2]") && received.contains("with ESMTPS (" + cipher + ")"), received);
    }
  }

  @Test
  void clientOverItsPerHostLimitIsClosedBeforeTheHandshake() throws Exception {
    try (PosternTestServer limited = TlsTesting.server(pki, true).option("hosts_proxy", Haproxy.SOURCE)
        .option("smtp_accept_max_per_host", "1").start();
         Haproxy haproxy = Haproxy.start(limited.root().resolve("haproxy"),
             List.of(Haproxy.server("postern", TlsTesting.port(limited, "smtps"), "send-proxy-v2")), "");
         TlsSmtp first = TlsSmtp.implicit(Haproxy.CLIENT, haproxy.port(), pki.clientContext())) {
      assertEquals(220, first.reply().code());
      MainLogFile log = MainLogFile.ofTestJvm().fromNow();
      // The proxy holds two connections now; the client's second is one too many: no handshake.
      assertThrows(IOException.class, () -> TlsSmtp.implicit(Haproxy.CLIENT, haproxy.port(), pki.clientContext()));
      log.await(5000, "Connection from [127.0.0.2] refused: too many connections from that IP address"
          + " (smtp_accept_max_per_host=1)");
      // Another client through the same proxy is served.
      try (TlsSmtp other = TlsSmtp.implicit("127.0.0.4", haproxy.port(), pki.clientContext())) {
        assertEquals(220, other.reply().code());
      }
      assertEquals(250, first.ehlo("first.test.example").code());
    }
  }

  @Test
  void startTlsAfterAProxyHeader() throws Exception {
    try (Haproxy haproxy = haproxy("smtp");
         TlsSmtp c = TlsSmtp.connectFrom(Haproxy.CLIENT, haproxy.port())) {
      assertTrue(TlsSmtp.keywords(c.ehlo("starttls.test.example")).contains("STARTTLS"));
      c.startTls(pki.clientContext());
      assertEquals(pki.server().fingerprint(), TestPki.fingerprint(c.serverCertificate()));
      Reply ehlo = c.ehlo("starttls.test.example");
      assertTrue(ehlo.lines().get(0).endsWith("[" + Haproxy.CLIENT + "]"), ehlo.toString());
      String id = c.sendMessage("sender@starttls.test.example", "alice@test.example", "starttls via haproxy");
      assertEquals(221, c.command("QUIT").code());
      String log = TlsTesting.arrivalLine(id);
      assertTrue(log.contains(" H=(starttls.test.example) [127.0.0.2]:" + c.localPort() + " "), log);
      assertTrue(log.contains(" P=esmtps X="), log);
    }
  }
}
