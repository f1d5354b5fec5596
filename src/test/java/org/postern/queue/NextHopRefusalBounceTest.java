package org.postern.queue;

import jakarta.mail.BodyPart;
import jakarta.mail.Session;
import jakarta.mail.internet.ContentType;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postern.testing.PosternTestServer;
import org.postern.testing.ScriptedServers;
import org.postern.testing.ScriptedSmtpServer;
import org.postern.testing.SmtpTestClient;
import org.postern.testing.TlsSmtp;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.queue.RelayTesting.awaitLog;
import static org.postern.queue.RelayTesting.manualroute;

/**
 * The two refusals the smtp transport makes itself, before anything is sent, through the real
 * queue: 5.6.7 for a UTF-8 recipient at a next hop without SMTPUTF8 (RFC 6531 3.7.5), 5.7.10 for a
 * REQUIRETLS message at a next hop without TLS (RFC 8689 4.2.1). The bounce is read back from the
 * sender's maildir with Angus Mail; the one about the SMTPUTF8 message is RFC 6533's global form.
 */
@Timeout(120)
class NextHopRefusalBounceTest {
  @RegisterExtension
  static final ScriptedServers REMOTES = new ScriptedServers();

  private static PosternTestServer relay(ScriptedSmtpServer remote) throws Exception {
    return PosternTestServer.create().option("routers", manualroute("127.0.0.1::" + remote.port()))
        .option("transports", RelayTesting.TRANSPORTS).start();
  }

  @Test
  void aUtf8RecipientAtAHopWithoutSmtpUtf8IsBouncedWith567InAGlobalReport() throws Exception {
    ScriptedSmtpServer remote = REMOTES.start(ScriptedSmtpServer.create());
    try (PosternTestServer server = relay(remote)) {
      String id;
      try (SmtpTestClient c = SmtpTestClient.connect(server.port())) {
        assertEquals(220, c.reply().code());
        assertEquals(250, c.command("EHLO client.example").code());
        c.sendRaw("MAIL FROM:<alice@test.example> SMTPUTF8\r\n".getBytes(StandardCharsets.UTF_8));
        assertEquals(250, c.reply().code());
        c.sendRaw("RCPT TO:<jürgen@remote.example>\r\n".getBytes(StandardCharsets.UTF_8));
        assertEquals(250, c.reply().code());
        assertEquals(354, c.command("DATA").code());
        c.sendRaw("Subject: Grüße\r\nTo: jürgen@remote.example\r\n\r\nHallo\r\n.\r\n".getBytes(StandardCharsets.UTF_8));
        SmtpTestClient.Reply ok = c.reply();
        assertEquals(250, ok.code(), ok.toString());
        id = ok.text().substring(ok.text().indexOf("id=") + 3).strip();
      }
      assertTrue(awaitLog(id, " ** ").contains("the address is UTF-8 and the next hop does not offer SMTPUTF8"));
      awaitLog(id, " Completed");
      assertEquals(0, remote.commands("MAIL").size(), remote.commands().toString());
      assertTrue(remote.envelopes().isEmpty());

      Bounce b = bounce(server.awaitMailbox("alice", 1, 20_000).get(0));
      assertEquals("message/global-delivery-status", b.statusType(), "RFC 6533 6.1");
      assertEquals("message/global-headers", b.returnedType(), "RFC 6533 6.3: headers only (no RET=FULL)");
      Map<String, String> rcpt = BounceMessageTest.fieldGroups(b.status()).get(1);
      assertEquals("utf-8; jürgen@remote.example", rcpt.get("Final-Recipient"), "RFC 6533 3: utf-8 address type");
      assertEquals("failed", rcpt.get("Action"));
      assertEquals("5.6.7", rcpt.get("Status"));
      assertTrue(b.returned().contains("Subject: Grüße\r\n"), b.returned());
    }
  }

  @Test
  void aRequireTlsMessageAtAHopWithoutTlsIsBouncedWith5710() throws Exception {
    ScriptedSmtpServer remote = REMOTES.start(ScriptedSmtpServer.create().advertise("REQUIRETLS"));
    try (PosternTestServer server = relay(remote)) {
      String id = TlsSmtp.submitRequireTls(server.port(), "alice@test.example", "bob@remote.example",
          "Subject: secret\r\n\r\nfor TLS only\r\n");
      awaitLog(id, " ** bob@remote.example", "REQUIRETLS: the next hop did not use TLS");
      awaitLog(id, " Completed");
      assertEquals(0, remote.commands("MAIL").size(), remote.commands().toString());
      assertTrue(remote.envelopes().isEmpty());

      Bounce b = bounce(server.awaitMailbox("alice", 1, 20_000).get(0));
      assertEquals("message/delivery-status", b.statusType());
      assertEquals("text/rfc822-headers", b.returnedType());
      Map<String, String> rcpt = BounceMessageTest.fieldGroups(b.status()).get(1);
      assertEquals("rfc822; bob@remote.example", rcpt.get("Final-Recipient"));
      assertEquals("failed", rcpt.get("Action"));
      assertEquals("5.7.10", rcpt.get("Status"));
      assertTrue(rcpt.get("Diagnostic-Code").contains("REQUIRETLS"), rcpt.toString());
      assertFalse(b.returned().contains("for TLS only"), "headers only");
    }
  }

  /** What a report holds, as Angus Mail parses it. */
  private record Bounce(String statusType, String status, String returnedType, String returned) {
  }

  private static Bounce bounce(Path file) throws Exception {
    MimeMessage m;
    try (InputStream in = Files.newInputStream(file)) {
      m = new MimeMessage(Session.getInstance(new Properties()), in);
    }
    ContentType type = new ContentType(m.getContentType());
    assertEquals("multipart/report", type.getBaseType().toLowerCase());
    assertEquals("delivery-status", type.getParameter("report-type"));
    MimeMultipart parts = (MimeMultipart) m.getContent();
    assertEquals(3, parts.getCount());
    assertTrue(parts.getBodyPart(0).isMimeType("text/plain"));
    BodyPart status = parts.getBodyPart(1);
    BodyPart returned = parts.getBodyPart(2);
    return new Bounce(new ContentType(status.getContentType()).getBaseType().toLowerCase(),
        new String(((MimeBodyPart) status).getRawInputStream().readAllBytes(), StandardCharsets.UTF_8),
        new ContentType(returned.getContentType()).getBaseType().toLowerCase(),
        new String(((MimeBodyPart) returned).getRawInputStream().readAllBytes(), StandardCharsets.UTF_8));
  }
}
