package org.postern.tls;

import org.postern.testing.TlsSmtp;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient.Reply;
import org.postern.testing.TestPki;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code tls_advertise_hosts}: STARTTLS is offered, and accepted, only for the hosts listed. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class TlsAdvertiseHostsTest {
  private static TestPki pki;
  /** tls_advertise_hosts: 127.0.0.2. */
  private static PosternTestServer server;
  /** tls_advertise_hosts: "" (nobody). */
  private static PosternTestServer nobody;

  @BeforeAll
  static void start() throws Exception {
    pki = TestPki.shared();
    server = TlsTesting.server(pki, false).option("tls_advertise_hosts", "127.0.0.2").start();
    nobody = TlsTesting.server(pki, false).option("tls_advertise_hosts", "\"\"").start();
  }

  @AfterAll
  static void stop() throws Exception {
    PosternTestServer.closeAll(server, nobody);
  }

  @Test
  void hostNotListedIsNotOfferedStartTls() throws Exception {
    try (TlsSmtp c = TlsSmtp.connectFrom("127.0.0.1", server.port())) {
      Reply ehlo = c.ehlo("client.test.example");
      assertFalse(TlsSmtp.keywords(ehlo).contains("STARTTLS"), ehlo.toString());
      Reply r = c.command("STARTTLS");
      assertEquals(503, r.code(), r.toString());
      assertTrue(r.text().startsWith("5.5.1 "), r.toString());
      // Still a working plaintext session.
      assertEquals(250, c.command("NOOP").code());
      String id = c.sendMessage("sender@client.test.example", "alice@test.example", "not offered");
      assertTrue(TlsTesting.arrivalLine(id).contains(" P=esmtp "));
    }
  }

  @Test
  void listedHostIsOfferedStartTls() throws Exception {
    try (TlsSmtp c = TlsSmtp.connectFrom("127.0.0.2", server.port())) {
      Reply ehlo = c.ehlo("client.test.example");
      assertTrue(TlsSmtp.keywords(ehlo).contains("STARTTLS"), ehlo.toString());
      c.startTls(pki.clientContext());
      c.ehlo("client.test.example");
      String id = c.sendMessage("sender@client.test.example", "alice@test.example", "offered");
      assertTrue(TlsTesting.arrivalLine(id).contains(" P=esmtps X=TLS1."));
    }
  }

  @Test
  void emptyListOffersStartTlsToNobody() throws Exception {
    for (String source : new String[] {"127.0.0.1", "127.0.0.2"}) {
      try (TlsSmtp c = TlsSmtp.connectFrom(source, nobody.port())) {
        assertFalse(TlsSmtp.keywords(c.ehlo("client.test.example")).contains("STARTTLS"));
        assertEquals(503, c.command("STARTTLS").code());
      }
    }
  }
}
