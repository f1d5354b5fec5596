package org.postern.queue;

import jakarta.mail.BodyPart;
import jakarta.mail.Message;
import jakarta.mail.Multipart;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postern.testing.MainLogFile;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * RFC 3461 honoured end to end by a real server with its queue and maildir: Angus Mail sends with
 * {@code mail.smtp.dsn.notify} / {@code mail.smtp.dsn.ret}, raw sessions add ENVID and ORCPT; the
 * reports that arrive in the sender's mailbox are parsed back with Angus Mail ({@code multipart/report},
 * the {@code message/delivery-status} fields). Unknown local users pass the rcpt ACL here, so that
 * they fail in the queue ("Unrouteable address") and are bounced.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DsnReportTest {
  private static PosternTestServer server;
  private static final MainLogFile LOG = MainLogFile.ofTestJvm();

  @BeforeAll
  static void start() throws Exception {
    server = PosternTestServer.create().acl("acl_check_rcpt:\n  - accept: { }\n")
        .withoutOption("acl_smtp_expn").withoutOption("acl_smtp_etrn").start();
  }

  @AfterAll
  static void stop() throws Exception {
    PosternTestServer.closeAll(server);
  }

  @Test
  void angusNotifySuccessGetsADeliveredReportWithHeadersOnly() throws Exception {
    List<Path> before = server.mailbox("alice");
    Properties p = props();
    p.put("mail.smtp.dsn.notify", "SUCCESS,FAILURE");
    p.put("mail.smtp.dsn.ret", "HDRS");
    MimeMessage m = new MimeMessage(Session.getInstance(p));
    m.setFrom(new InternetAddress("alice@test.example"));
    m.setRecipient(Message.RecipientType.TO, new InternetAddress("bob@test.example"));
    m.setSubject("tell me");
    m.setText("body line\n");
    Transport.send(m);
    server.awaitMailbox("bob", 1, 10000);

    MimeMessage report = newReport(before);
    assertEquals("Delivery Status Notification", report.getSubject());
    Multipart parts = (Multipart) report.getContent();
    assertTrue(report.getContentType().startsWith("multipart/report"), report.getContentType());
    assertTrue(report.getContentType().contains("report-type=delivery-status"), report.getContentType());
    List<Map<String, String>> groups = deliveryStatus(parts);
    assertEquals("dns; mx.test.example", groups.get(0).get("Reporting-MTA"));
    assertTrue(groups.get(0).containsKey("Arrival-Date"));
    assertFalse(groups.get(0).containsKey("Original-Envelope-Id"));
    assertEquals("rfc822; bob@test.example", groups.get(1).get("Final-Recipient"));
    assertEquals("delivered", groups.get(1).get("Action"));
    assertEquals("2.0.0", groups.get(1).get("Status"));
    assertEquals("text/rfc822-headers", parts.getBodyPart(2).getContentType().split(";")[0]);
    assertFalse(raw(parts.getBodyPart(2)).contains("body line"));
  }

  @Test
  void failureReportCarriesEnvidOrcptAndTheFullMessage() throws Exception {
    List<Path> before = server.mailbox("alice");
    String id = send("<alice@test.example> RET=FULL ENVID=env+2B1",
        "<nobody@test.example> ORCPT=rfc822;Nobody+2Bx@elsewhere.example",
        "<never@test.example> NOTIFY=NEVER");
    LOG.awaitCompleted(id, 10000);

    MimeMessage report = newReport(before);
    assertEquals("Mail delivery failed: returning message to sender", report.getSubject());
    Multipart parts = (Multipart) report.getContent();
    List<Map<String, String>> groups = deliveryStatus(parts);
    assertEquals("env+1", groups.get(0).get("Original-Envelope-Id"));
    // NOTIFY=NEVER: never@ failed too, but is not in the report.
    assertEquals(2, groups.size(), groups.toString());
    assertEquals("rfc822;Nobody+x@elsewhere.example", groups.get(1).get("Original-Recipient"));
    assertEquals("rfc822; nobody@test.example", groups.get(1).get("Final-Recipient"));
    assertEquals("failed", groups.get(1).get("Action"));
    assertEquals("message/rfc822", parts.getBodyPart(2).getContentType().split(";")[0]);
    assertTrue(raw(parts.getBodyPart(2)).contains("the body"));
    assertEquals("nobody@test.example", report.getHeader("X-Failed-Recipients", null));
  }

  @Test
  void notifyNeverGetsNoBounce() throws Exception {
    MainLogFile log = LOG.fromNow();
    String id = send("<alice@test.example>", "<nobody2@test.example> NOTIFY=NEVER");
    log.awaitCompleted(id, 10000);
    // The bounce would be spooled (and logged) before Completed.
    assertEquals(List.of(), log.lines(" <= <> R=" + id));
    assertEquals(1, log.lines(id + " ** nobody2@test.example").size());
    assertEquals(1, log.lines(id + " no failure DSN for nobody2@test.example: NOTIFY excludes FAILURE").size());
  }

  private static String send(String mailFrom, String... rcpts) throws Exception {
    return SmtpTestClient.submit(server.port(), mailFrom, "Subject: dsn\r\n\r\nthe body\r\n", rcpts);
  }


  /** The one report that arrived in alice's mailbox after {@code before}. */
  private static MimeMessage newReport(List<Path> before) throws Exception {
    List<Path> now = server.awaitMailbox("alice", before.size() + 1, 10000);
    Path added = now.stream().filter(f -> !before.contains(f)).findFirst().orElseThrow();
    try (InputStream in = Files.newInputStream(added)) {
      return new MimeMessage(Session.getInstance(new Properties()), in);
    }
  }

  private static List<Map<String, String>> deliveryStatus(Multipart parts) throws Exception {
    BodyPart status = parts.getBodyPart(1);
    assertEquals("message/delivery-status", status.getContentType().split(";")[0]);
    return BounceMessageTest.fieldGroups(raw(status));
  }

  private static String raw(BodyPart p) throws Exception {
    return new String(((MimeBodyPart) p).getRawInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
  }

  private static Properties props() {
    Properties p = new Properties();
    p.put("mail.smtp.host", "127.0.0.1");
    p.put("mail.smtp.port", Integer.toString(server.port()));
    p.put("mail.smtp.ehlo", "true");
    p.put("mail.smtp.localhost", "client.example");
    p.put("mail.smtp.connectiontimeout", "10000");
    p.put("mail.smtp.timeout", "10000");
    return p;
  }
}
