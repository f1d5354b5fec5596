package org.postern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient;
import org.postern.testing.TestDnsServer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code dnslists} on a real Postern over real sockets: the client (127.0.0.1) is looked up as
 * {@code 1.0.0.127.bl.test} at {@link TestDnsServer}, named in {@code dns_servers}. Listed mail is
 * refused and never spooled; a DNS server that does not answer gets a 4xx in bounded time, not a
 * hung connection; unlisted mail is delivered.
 */
class DnsListsSmtpTest {
  private static final String CLIENT_NAME = "1.0.0.127.bl.test";
  private static final String ACL = "acl_check_rcpt:\n"
      + "  - deny:    { dnslists: bl.test, message: \"$sender_host_address is listed at $dnslist_domain"
      + " ($dnslist_value: $dnslist_text)\" }\n"
      + "  - require: { verify: recipient }\n"
      + "  - accept:  { domains: +local_domains }\n"
      + "  - deny:    { message: relay not permitted }\n"
      + "acl_check_expn:\n  - deny:\nacl_check_etrn:\n  - deny:\n";

  private TestDnsServer dns;

  @BeforeEach
  void startDns() throws Exception {
    dns = TestDnsServer.start();
  }

  @AfterEach
  void stopDns() throws Exception {
    dns.close();
  }

  private PosternTestServer server() throws Exception {
    return PosternTestServer.create().acl(ACL).option("dns_servers", "\"" + dns.address() + "\"")
        .option("dns_timeout", "300ms").option("dns_retry", "1").start();
  }

  @Test
  void listedClientIsRefusedAndNothingIsSpooled() throws Exception {
    try (PosternTestServer server = server()) {
      dns.a(CLIENT_NAME, "127.0.0.2").txt(CLIENT_NAME, "test listing");
      try (SmtpTestClient c = SmtpTestClient.connect(server.port())) {
        assertEquals(220, c.reply().code());
        assertEquals(250, c.command("EHLO client.example").code());
        assertEquals(250, c.command("MAIL FROM:<sender@example.org>").code());
        SmtpTestClient.Reply refused = c.command("RCPT TO:<alice@test.example>");
        assertEquals(550, refused.code(), refused.toString());
        assertEquals("5.7.1", refused.enhanced(), refused.toString());
        assertEquals("5.7.1 127.0.0.1 is listed at bl.test (127.0.0.2: test listing)", refused.text(), refused.toString());
        SmtpTestClient.Reply data = c.command("DATA");
        assertTrue(data.code() >= 500, data.toString());
        assertEquals(221, c.command("QUIT").code());
      }
      assertEquals(List.of(), server.spoolFiles());
      assertEquals(List.of(), server.mailbox("alice"));
      assertEquals(List.of(CLIENT_NAME, CLIENT_NAME), dns.queries());
    }
  }

  @Test
  void unlistedClientsMailIsDelivered() throws Exception {
    try (PosternTestServer server = server()) {
      try (SmtpTestClient c = SmtpTestClient.connect(server.port())) {
        assertEquals(220, c.reply().code());
        assertEquals(250, c.command("EHLO client.example").code());
        assertEquals(250, c.command("MAIL FROM:<sender@example.org>").code());
        assertEquals(250, c.command("RCPT TO:<alice@test.example>").code());
        assertEquals(354, c.command("DATA").code());
        SmtpTestClient.Reply queued = c.command("Subject: clean\r\n\r\nnot listed anywhere\r\n.");
        assertEquals(250, queued.code(), queued.toString());
        assertEquals(221, c.command("QUIT").code());
      }
      List<java.nio.file.Path> mail = server.awaitMailbox("alice", 1, 10_000);
      assertEquals(1, mail.size());
      assertTrue(Files.readString(mail.get(0), StandardCharsets.UTF_8).contains("not listed anywhere"));
      assertEquals(List.of(CLIENT_NAME), dns.queries());
    }
  }

  @Test
  void silentDnsDefersTheRecipientInsteadOfHanging() throws Exception {
    dns.silent(CLIENT_NAME);
    try (PosternTestServer server = server(); SmtpTestClient c = SmtpTestClient.connect(server.port())) {
      // A hung ACL would trip this read timeout (the bound is 1.3 s: 300 ms plus the 1 s guard slack).
      c.timeout(15_000);
      assertEquals(220, c.reply().code());
      assertEquals(250, c.command("EHLO client.example").code());
      assertEquals(250, c.command("MAIL FROM:<sender@example.org>").code());
      SmtpTestClient.Reply deferred = c.command("RCPT TO:<alice@test.example>");
      assertEquals(450, deferred.code(), deferred.toString());
      assertEquals("4.7.1", deferred.enhanced(), deferred.toString());
      // The connection is still usable.
      assertEquals(250, c.command("RSET").code());
      assertEquals(221, c.command("QUIT").code());
      assertEquals(List.of(), server.spoolFiles());
      assertEquals(List.of(CLIENT_NAME), dns.queries());
    }
  }
}
