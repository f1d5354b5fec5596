package org.postern.listener;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.postern.testing.Await;
import org.postern.testing.Haproxy;
import org.postern.testing.MainLogFile;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient.Reply;
import org.postern.testing.TlsSmtp;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Postern behind a real HAProxy in TCP mode: the client connects from 127.0.0.2, HAProxy passes
 * the connection on from 127.0.0.3 ({@code hosts_proxy}) with a PROXY header, and everything in
 * Postern (ACLs, the main log's {@code H=}, {@code Received:}, the per-host limit) sees 127.0.0.2.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HaproxyTest {
  /** The reply to RCPT TO:&lt;probe@...&gt; shows what the ACL sees. */
  private static final String ACL = "acl_check_rcpt:\n"
      + "  - deny: { recipients: \"probe@test.example\", message: \"seen [$sender_host_address]:$sender_host_port"
      + " proxy_session=$proxy_session local=[$proxy_local_address]:$proxy_local_port"
      + " external=[$proxy_external_address]:$proxy_external_port\" }\n"
      + "  - deny: { hosts: \"!" + Haproxy.CLIENT + "\", message: \"not from the real client\" }\n"
      + "  - require: { verify: recipient }\n"
      + "  - accept: { domains: +local_domains }\n"
      + "  - deny: { message: relay not permitted }\n"
      + "acl_check_expn:\n  - deny:\nacl_check_etrn:\n  - deny:\n";
  private static PosternTestServer server;

  @BeforeAll
  static void start() throws Exception {
    server = PosternTestServer.create()
        .option("listeners", "{ smtp: { address: 127.0.0.1, port: 0 }, submission: { address: 127.0.0.1, port: 0 } }")
        .option("hosts_proxy", Haproxy.SOURCE)
        .option("tls_on_connect_ports", "\"\"")
        .option("smtp_accept_max_per_host", "2")
        .acl(ACL)
        .start();
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  private static Haproxy haproxy(String listener, String sendProxy) throws Exception {
    return Haproxy.start(server.root().resolve("haproxy"),
        List.of(Haproxy.server("postern", server.port(listener), sendProxy)), "");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"smtp", "submission"})
  void sendProxyV2GivesTheClientToLogsHeadersAndAcls(String listener) throws Exception {
    try (Haproxy haproxy = haproxy(listener, "send-proxy-v2")) {
      assertSeesTheClient(haproxy, listener);
    }
  }

  @Test
  void sendProxyV1GivesTheClientToLogsHeadersAndAcls() throws Exception {
    try (Haproxy haproxy = haproxy("smtp", "send-proxy")) {
      assertSeesTheClient(haproxy, "smtp");
    }
  }

  private static void assertSeesTheClient(Haproxy haproxy, String listener) throws Exception {
    try (TlsSmtp c = TlsSmtp.connectFrom(Haproxy.CLIENT, haproxy.port())) {
      Reply ehlo = c.ehlo("client.test.example");
      assertTrue(ehlo.lines().get(0).endsWith("[" + Haproxy.CLIENT + "]"), ehlo + "\n" + haproxy.output());
      int clientPort = c.localPort();
      assertEquals(250, c.command("MAIL FROM:<sender@client.test.example>").code());
      Reply probe = c.command("RCPT TO:<probe@test.example>");
      assertEquals(550, probe.code(), probe.toString());
      // The proxy's inside address is HAProxy's source; its outside one, the frontend the client used.
      assertTrue(probe.text().matches("5\\.7\\.1 seen \\[127\\.0\\.0\\.2]:" + clientPort
          + " proxy_session=yes local=\\[127\\.0\\.0\\.3]:[1-9]\\d* external=\\[127\\.0\\.0\\.1]:" + haproxy.port()),
          probe.toString());
      assertEquals(250, c.command("RSET").code());
      String id = c.sendMessage("sender@client.test.example", "alice@test.example", "through haproxy");
      assertEquals(221, c.command("QUIT").code());

      String arrival = MainLogFile.ofTestJvm().await(5000, id + " <= ");
      assertTrue(arrival.contains(" H=(client.test.example) [127.0.0.2]:" + clientPort + " "), arrival);
      assertFalse(arrival.contains(Haproxy.SOURCE), arrival);
      assertTrue(arrival.contains(":" + server.port(listener) + " "), "interface port in " + arrival);
      String received = received(id);
      assertTrue(received.contains("[127.0.0.2]"), received);
      assertFalse(received.contains(Haproxy.SOURCE), received);
    }
  }

  /** The Received: header Postern wrote into the delivered message {@code id}, unfolded. */
  private static String received(String id) throws Exception {
    Optional<String> found = Await.value(5000, () -> {
      for (Path f : server.mailbox("alice")) {
        String text = Files.readString(f, StandardCharsets.UTF_8);
        String header = text.substring(0, Math.max(0, text.indexOf("\r\n\r\n"))).replaceAll("\r\n[ \t]+", " ");
        Optional<String> line = Stream.of(header.split("\r\n"))
            .filter(l -> l.startsWith("Received: ") && l.contains("id " + id)).findFirst();
        if (line.isPresent()) {
          return line;
        }
      }
      return Optional.<String>empty();
    }, Optional::isPresent);
    return found.orElseThrow(() -> new AssertionError("message " + id + " not delivered to alice"));
  }

  @Test
  void perHostLimitAppliesToTheClientNotToTheProxy() throws Exception {
    // A client address of this test's own, so connections other tests just closed cannot count.
    String client = "127.0.0.6";
    MainLogFile log = MainLogFile.ofTestJvm().fromNow();
    try (Haproxy haproxy = haproxy("smtp", "send-proxy-v2");
         TlsSmtp first = TlsSmtp.connectFrom(client, haproxy.port());
         TlsSmtp second = TlsSmtp.connectFrom(client, haproxy.port());
         TlsSmtp third = TlsSmtp.open(client, haproxy.port())) {
      // smtp_accept_max_per_host is 2: the client's third connection is one too many...
      Reply refused = third.reply();
      assertEquals(421, refused.code(), refused.toString());
      assertEquals("4.7.0", refused.enhanced(), refused.toString());
      log.await(5000, "Connection from [" + client + "] refused: too many connections from that IP address"
          + " (smtp_accept_max_per_host=2)");
      // ...but another client behind the same proxy (the proxy's fourth connection) is let in.
      try (TlsSmtp other = TlsSmtp.connectFrom("127.0.0.4", haproxy.port())) {
        Reply ehlo = other.ehlo("other.test.example");
        assertTrue(ehlo.lines().get(0).endsWith("[127.0.0.4]"), ehlo.toString());
      }
      assertEquals(250, first.ehlo("first.test.example").code());
      assertEquals(250, second.ehlo("second.test.example").code());
    }
  }
}
