package org.postern;

import jakarta.mail.Message;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postern.queue.QueueListing;
import org.postern.spool.Envelope;
import org.postern.spool.Spool;
import org.postern.testing.MainLogFile;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** SMTPUTF8 (RFC 6531) on receipt: EHLO, MAIL's parameter, UTF-8 addresses and their refusals. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SmtpUtf8ReceiveTest {
  private static PosternTestServer server;
  private static PosternTestServer notOffered;
  private static PosternTestServer queued;

  @BeforeAll
  static void start() throws Exception {
    server = PosternTestServer.create()
        .option("domainlist", "{ local_domains: \"localhost : @ : test.example : xn--bcher-kva.example\" }");
    server.users("admin:", "alice:{PLAIN}alice-secret", "jürgen:{PLAIN}x");
    server.start();
    notOffered = PosternTestServer.create().option("smtputf8_advertise_hosts", "\"\"").start();
    queued = PosternTestServer.create().option("queue_only", "true")
        .option("domainlist", "{ local_domains: \"localhost : @ : test.example : bücher.example\" }");
    queued.users("admin:", "alice:{PLAIN}alice-secret", "jürgen:{PLAIN}x");
    queued.start();
  }

  @AfterAll
  static void stop() throws Exception {
    PosternTestServer.closeAll(server, notOffered, queued);
  }

  private static SmtpTestClient greeted(PosternTestServer s) throws Exception {
    SmtpTestClient c = SmtpTestClient.connect(s.port());
    assertEquals(220, c.reply().code());
    SmtpTestClient.Reply ehlo = c.command("EHLO client.example");
    assertEquals(250, ehlo.code(), ehlo.toString());
    return c;
  }

  private static void assertRefused(SmtpTestClient.Reply r, int code, String enhanced) {
    assertEquals(code, r.code(), r.toString());
    assertEquals(enhanced, r.enhanced(), r.toString());
  }

  @Test
  void ehloAdvertisesSmtpUtf8OnlyToMatchingHosts() throws Exception {
    try (SmtpTestClient c = SmtpTestClient.connect(server.port())) {
      c.reply();
      assertTrue(c.command("EHLO client.example").lines().contains("SMTPUTF8"));
    }
    try (SmtpTestClient c = SmtpTestClient.connect(notOffered.port())) {
      c.reply();
      assertFalse(c.command("EHLO client.example").lines().contains("SMTPUTF8"));
    }
  }

  @Test
  void smtpUtf8NotAdvertisedIs555() throws Exception {
    try (SmtpTestClient c = greeted(notOffered)) {
      assertRefused(c.command("MAIL FROM:<a@example.org> SMTPUTF8"), 555, "5.5.4");
      // And without it, a UTF-8 address is refused as RFC 6531 3.6.1 says.
      assertRefused(c.command("MAIL FROM:<jürgen@example.org>"), 553, "5.6.7");
      assertEquals(250, c.command("MAIL FROM:<a@example.org>").code());
      assertRefused(c.command("RCPT TO:<jürgen@test.example>"), 553, "5.6.7");
      assertRefused(c.command("RCPT TO:<alice@bücher.example>"), 553, "5.6.7");
    }
    assertTrue(notOffered.spoolFiles().isEmpty());
  }

  @Test
  void badUtf8InputIsRefusedWithTheRightCodes() throws Exception {
    try (SmtpTestClient c = greeted(server)) {
      assertRefused(c.command("MAIL FROM:<a@example.org> SMTPUTF8=yes"), 501, "5.5.4");
      // 8-bit in an address without SMTPUTF8 on MAIL.
      assertRefused(c.command("MAIL FROM:<jürgen@example.org>"), 553, "5.6.7");
      // Invalid UTF-8 (a lone continuation byte, an overlong '/'), with SMTPUTF8.
      c.sendRaw(bytes("MAIL FROM:<j\u0080rgen@example.org> SMTPUTF8\r\n"));
      assertRefused(c.reply(), 553, "5.6.7");
      c.sendRaw(bytes("MAIL FROM:<a\u00c0\u00afb@example.org> SMTPUTF8\r\n"));
      assertRefused(c.reply(), 553, "5.6.7");
      // Not IDNA2008: a symbol (U+2665) and a label mixing right-to-left and left-to-right.
      assertRefused(c.command("MAIL FROM:<a@\u2665.example> SMTPUTF8"), 553, "5.1.7");
      assertRefused(c.command("MAIL FROM:<a@\u05d0\u05d1c.example> SMTPUTF8"), 553, "5.1.7");
      assertRefused(c.command("MAIL FROM:<a@xn--zzzzzz-9999.example> SMTPUTF8"), 553, "5.1.7");
      assertEquals(250, c.command("MAIL FROM:<jürgen@bücher.example> SMTPUTF8").code());
      c.sendRaw(bytes("RCPT TO:<j\u00ffrgen@test.example>\r\n"));
      assertRefused(c.reply(), 553, "5.6.7");
      assertRefused(c.command("RCPT TO:<alice@\u2665.example>"), 553, "5.1.3");
      assertEquals(503, c.command("DATA").code());
    }
    assertTrue(server.spoolFiles().isEmpty());
  }

  @Test
  void smtpUtf8MessageIsMarkedInEnvelopeListingAndLog() throws Exception {
    MainLogFile log = MainLogFile.ofTestJvm().fromNow();
    String id;
    try (SmtpTestClient c = greeted(queued)) {
      assertEquals(250, c.command("MAIL FROM:<jürgen@bücher.example> SMTPUTF8").code());
      assertEquals(250, c.command("RCPT TO:<JÜRGEN@xn--bcher-kva.example>").code());
      assertEquals(354, c.command("DATA").code());
      SmtpTestClient.Reply ok = c.command("Subject: Grüße\r\nFrom: jürgen@bücher.example\r\n\r\nhi\r\n.");
      assertEquals(250, ok.code(), ok.toString());
      id = ok.text().replaceAll(".*id=", "");
    }
    Envelope e = new Spool(queued.root().resolve("spool")).readEnvelope(id);
    assertTrue(e.smtpUtf8());
    assertFalse(e.requireTls());
    assertEquals("jürgen@bücher.example", e.sender());
    String listing = QueueListing.list(List.of(e), java.time.Instant.now());
    assertTrue(listing.contains("<jürgen@bücher.example> SMTPUTF8"), listing);
    // Exim's "utf8" prefix on the protocol (Internationalisation chapter).
    log.await(10_000, id + " <= jürgen@bücher.example", "P=utf8esmtp ");
  }

  @Test
  void angusMailSendsUtf8AddressesDeliveredIntactToAnNfcMaildir() throws Exception {
    Properties p = new Properties();
    p.put("mail.smtp.host", "127.0.0.1");
    p.put("mail.smtp.port", Integer.toString(server.port()));
    p.put("mail.smtp.localhost", "client.example");
    p.put("mail.mime.allowutf8", "true");
    p.put("mail.smtp.allow8bitmime", "true");
    Session session = Session.getInstance(p);
    MimeMessage message = new MimeMessage(session);
    message.setFrom(new InternetAddress("jürgen@bücher.example"));
    // Decomposed "u" + U+0308: the folder is the NFC name of the passwd entry all the same.
    message.setRecipient(Message.RecipientType.TO, new InternetAddress("ju\u0308rgen@bücher.example"));
    message.setSubject("Grüße aus Zürich", "UTF-8");
    message.setHeader("Subject", "Grüße aus Zürich");
    message.setText("Schöne Grüße\r\n", "UTF-8");
    message.setHeader("Content-Transfer-Encoding", "8bit");
    Transport.send(message);

    List<Path> files = server.awaitMailbox("jürgen", 1, 10_000);
    String stored = Files.readString(files.get(0), StandardCharsets.UTF_8);
    assertTrue(stored.contains("\r\nSubject: Grüße aus Zürich\r\n"), stored);
    assertTrue(stored.contains("From: jürgen@bücher.example\r\n"), stored);
    assertTrue(stored.contains("Schöne Grüße\r\n"), stored);
    assertTrue(stored.contains("with UTF8ESMTP"), stored);
    ByteArrayOutputStream sent = new ByteArrayOutputStream();
    message.writeTo(sent);
    assertTrue(stored.endsWith(sent.toString(StandardCharsets.UTF_8)), stored);
  }

  @Test
  void requireTlsIsNeitherOfferedNorTakenOutsideTls() throws Exception {
    try (SmtpTestClient c = SmtpTestClient.connect(server.port())) {
      c.reply();
      assertFalse(c.command("EHLO client.example").lines().contains("REQUIRETLS"));
      assertRefused(c.command("MAIL FROM:<a@example.org> REQUIRETLS"), 530, "5.7.10");
      assertRefused(c.command("MAIL FROM:<a@example.org> REQUIRETLS=yes"), 501, "5.5.4");
      assertEquals(250, c.command("MAIL FROM:<a@example.org>").code());
    }
    assertTrue(server.spoolFiles().isEmpty());
  }

  @Test
  void requireTlsInsideTlsIsOfferedAndMarksTheMessage() throws Exception {
    MainLogFile log = MainLogFile.ofTestJvm().fromNow();
    javax.net.ssl.SSLContext trusting = javax.net.ssl.SSLContext.getInstance("TLS");
    trusting.init(null, new javax.net.ssl.TrustManager[] {new org.postern.testing.TrustEverything()}, null);
    String id;
    try (org.postern.testing.TlsSmtp c = org.postern.testing.TlsSmtp.connect(queued.port())) {
      c.ehlo("client.example");
      c.startTls(trusting);
      assertTrue(org.postern.testing.TlsSmtp.keywords(c.ehlo("client.example")).contains("REQUIRETLS"));
      org.postern.testing.TlsSmtp.expect(250, c.command("MAIL FROM:<a@example.org> REQUIRETLS"));
      org.postern.testing.TlsSmtp.expect(250, c.command("RCPT TO:<alice@test.example>"));
      org.postern.testing.TlsSmtp.expect(354, c.command("DATA"));
      SmtpTestClient.Reply ok = c.command("Subject: t\r\n\r\nhi\r\n.");
      org.postern.testing.TlsSmtp.expect(250, ok);
      id = ok.text().replaceAll(".*id=", "");
    }
    Envelope e = new Spool(queued.root().resolve("spool")).readEnvelope(id);
    assertTrue(e.requireTls());
    assertTrue(QueueListing.list(List.of(e), java.time.Instant.now()).contains("<a@example.org> REQUIRETLS"));
    log.await(10_000, id + " <= a@example.org", " REQUIRETLS");
  }

  private static byte[] bytes(String latin1) {
    return latin1.getBytes(StandardCharsets.ISO_8859_1);
  }
}
