package org.postern.policy;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient;
import org.postern.testing.SmtpTestClient.Reply;
import org.postern.testing.TestDnsServer;


import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** verify = sender, helo and header_syntax against a real server and a real (test) DNS server. */
class VerifyConditionsTest {
  private static final String TAIL = "acl_check_expn:\n  - deny:\nacl_check_etrn:\n  - deny:\n";
  private static TestDnsServer dns;

  @BeforeAll
  static void startDns() throws Exception {
    dns = TestDnsServer.start()
        .mx("mx.example", 10, "mail.mx.example").a("mail.mx.example", "192.0.2.25")
        .a("a-only.example", "192.0.2.26")
        .mx("nullmx.example", 0, ".")
        .silent("slow.example")
        .a("client.example", "127.0.0.1")
        .a("liar.example", "192.0.2.99");
  }

  @AfterAll
  static void stopDns() throws Exception {
    dns.close();
  }

  private static PosternTestServer server(String acl, String... options) throws Exception {
    PosternTestServer s = PosternTestServer.create().acl(acl + TAIL)
        .option("dns_servers", "\"" + dns.address() + "\"").option("dns_timeout", "300ms").option("dns_retry", "1");
    for (int k = 0; k < options.length; k += 2) {
      s.option(options[k], options[k + 1]);
    }
    return s.start();
  }

  private static Reply mail(PosternTestServer s, String helo, String from) throws Exception {
    try (SmtpTestClient c = SmtpTestClient.connect(s.port())) {
      assertEquals(220, c.reply().code());
      assertEquals(250, c.command("EHLO " + helo).code());
      return c.command("MAIL FROM:<" + from + ">");
    }
  }

  @Test
  void senderVerification() throws Exception {
    String acl = "acl_check_mail:\n  - require: { verify: sender }\n  - accept:\n"
        + "acl_check_rcpt:\n  - accept: { domains: +local_domains }\n";
    try (PosternTestServer s = server(acl, "acl_smtp_mail", "acl_check_mail")) {
      assertEquals(250, mail(s, "client.example", "").code(), "the null sender needs no verification");
      assertEquals(250, mail(s, "client.example", "alice@test.example").code());
      assertEquals(250, mail(s, "client.example", "postmaster@test.example").code(), "an alias is a sender too");
      assertEquals(250, mail(s, "client.example", "someone@mx.example").code());
      assertEquals(250, mail(s, "client.example", "someone@a-only.example").code(), "implicit MX");
      assertEquals(250, mail(s, "client.example", "someone@[192.0.2.1]").code());

      Reply unknown = mail(s, "client.example", "nobody@test.example");
      assertEquals(550, unknown.code(), unknown.toString());
      assertEquals("5.1.7", unknown.enhanced(), unknown.toString());
      Reply nxdomain = mail(s, "client.example", "someone@no-such-domain.example");
      assertEquals(550, nxdomain.code(), nxdomain.toString());
      assertEquals("5.1.8", nxdomain.enhanced(), nxdomain.toString());
      Reply nullMx = mail(s, "client.example", "someone@nullmx.example");
      assertEquals(550, nullMx.code(), nullMx.toString());
      assertTrue(nullMx.text().contains("null MX"), nullMx.toString());
      Reply slow = mail(s, "client.example", "someone@slow.example");
      assertEquals(451, slow.code(), "a DNS outage defers, never rejects: " + slow);
      assertEquals("4.4.3", slow.enhanced(), slow.toString());
    }
  }

  @Test
  void heloVerification() throws Exception {
    String acl = "acl_check_helo:\n  - require: { verify: helo }\n  - accept:\n"
        + "acl_check_rcpt:\n  - accept: { domains: +local_domains }\n";
    try (PosternTestServer s = server(acl, "acl_smtp_helo", "acl_check_helo");
         SmtpTestClient c = SmtpTestClient.connect(s.port())) {
      assertEquals(220, c.reply().code());
      Reply liar = c.command("EHLO liar.example");
      assertEquals(550, liar.code(), liar.toString());
      assertTrue(liar.text().contains("is not your address [127.0.0.1]"), liar.toString());
      assertEquals(550, c.command("EHLO [127.0.0.2]").code());
      assertEquals(550, c.command("EHLO unknown.example").code());
      assertEquals(250, c.command("EHLO [127.0.0.1]").code());
      assertEquals(250, c.command("EHLO client.example").code());
      assertEquals(250, c.command("HELO client.example.").code());
      // A refused HELO leaves the client without a greeting: MAIL must wait.
      assertEquals(550, c.command("EHLO liar.example").code());
    }
  }

  @Test
  void headerSyntaxInTheDataAcl() throws Exception {
    String acl = "acl_check_rcpt:\n  - accept: { domains: +local_domains }\n"
        + "acl_check_data:\n  - require: { verify: header_syntax }\n  - accept:\n";
    try (PosternTestServer s = server(acl, "acl_smtp_data", "acl_check_data");
         SmtpTestClient c = SmtpTestClient.connect(s.port())) {
      assertEquals(220, c.reply().code());
      assertEquals(250, c.command("EHLO client.example").code());
      assertEquals(250, c.command("MAIL FROM:<a@example.org>").code());
      assertEquals(250, c.command("RCPT TO:<alice@test.example>").code());
      assertEquals(354, c.command("DATA").code());
      Reply bad = c.command("From: Alice <alice@example.org\r\nTo: bob\r\nSubject: x\r\n\r\nbody\r\n.");
      assertEquals(550, bad.code(), bad.toString());
      assertEquals("5.6.0", bad.enhanced(), bad.toString());
      assertTrue(bad.text().contains("'From:' header: missing '>'"), bad.toString());

      assertEquals(250, c.command("MAIL FROM:<a@example.org>").code());
      assertEquals(250, c.command("RCPT TO:<alice@test.example>").code());
      assertEquals(354, c.command("DATA").code());
      assertEquals(250, c.command("From: Alice <alice@example.org>\r\nTo: undisclosed-recipients:;\r\n\r\nok\r\n.")
          .code());
      assertEquals(1, s.awaitMailbox("alice", 1, 5000).size());
      Thread.sleep(300);
      assertEquals(1, s.mailbox("alice").size(), "the malformed message must not be delivered");
    }
  }
}
