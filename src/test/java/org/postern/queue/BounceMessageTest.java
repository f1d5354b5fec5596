package org.postern.queue;

import io.vertx.core.buffer.Buffer;
import jakarta.mail.BodyPart;
import jakarta.mail.Multipart;
import jakarta.mail.Session;
import jakarta.mail.internet.ContentType;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.Test;
import org.postern.spool.Envelope;
import org.postern.spool.Envelope.Recipient;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BounceMessageTest {
  private static final Instant ARRIVAL = Instant.parse("2026-03-01T08:00:00Z");
  private static final Instant NOW = Instant.parse("2026-03-01T09:30:05Z");
  private static final String HEADERS = "Received: from client.example ([192.0.2.9])\r\n"
      + "\tby mx.postern.test with esmtp id 1abcDE-0000AB-Cd\r\n"
      + "From: Alice <alice@example.org>\r\n"
      + "To: bob@example.net, carol@example.net\r\n"
      + "Subject: Lunch?\r\n"
      + "Message-ID: <lunch@example.org>\r\n\r\n";
  private static final String MESSAGE = HEADERS + "Shall we?\r\n-- \r\nAlice\r\n";

  static Envelope envelope(String sender) {
    return new Envelope("1abcDE-0000AB-Cd", sender, List.of(
        new Recipient("bob@example.net", "bob", "example.net", Recipient.State.FAILED),
        new Recipient("carol@example.net", "carol", "example.net", Recipient.State.FAILED)),
        ARRIVAL.toEpochMilli(), "192.0.2.9", 40000, "client.example", "esmtp", "192.0.2.1", 25, null, "7BIT",
        MESSAGE.length(), false);
  }

  private static BounceRequest.FailedRecipient bob(String text) {
    return BounceRequest.FailedRecipient.remote("bob@example.net", "mx.example.net", "198.51.100.7",
        "RCPT TO:<bob@example.net>", 550, "5.1.1", text, NOW.minusSeconds(5));
  }

  private static BounceRequest failure(BounceRequest.FailedRecipient... recipients) {
    return BounceRequest.failure(envelope("alice@example.org"), List.of(recipients), buffer(HEADERS),
        "mx.postern.test", "1abcDF-0000AB-Ce", NOW);
  }

  private static Buffer buffer(String s) {
    return Buffer.buffer(s.getBytes(StandardCharsets.ISO_8859_1));
  }

  private static MimeMessage parse(Buffer b) throws Exception {
    return new MimeMessage(Session.getInstance(new Properties()), new ByteArrayInputStream(b.getBytes()));
  }

  private static Multipart parts(MimeMessage m) throws Exception {
    return (Multipart) m.getContent();
  }

  private static byte[] raw(BodyPart p) throws Exception {
    return ((MimeBodyPart) p).getRawInputStream().readAllBytes();
  }

  /** RFC 3464 section 2.1: groups of RFC 822-style fields separated by empty lines; folded lines unfolded. */
  static List<Map<String, String>> fieldGroups(String text) {
    List<Map<String, String>> groups = new ArrayList<>();
    Map<String, String> current = new LinkedHashMap<>();
    String last = null;
    for (String line : text.split("\r\n", -1)) {
      if (line.isEmpty()) {
        if (!current.isEmpty()) {
          groups.add(current);
          current = new LinkedHashMap<>();
        }
        last = null;
      } else if ((line.startsWith(" ") || line.startsWith("\t")) && last != null) {
        current.put(last, current.get(last) + line);
      } else {
        int colon = line.indexOf(':');
        last = line.substring(0, colon);
        current.put(last, line.substring(colon + 1).trim());
      }
    }
    if (!current.isEmpty()) {
      groups.add(current);
    }
    return groups;
  }

  @Test
  void failureReportIsAMultipartReportWithEximsWording() throws Exception {
    Buffer bounce = BounceMessage.build(failure(bob("5.1.1 <bob@example.net>: user unknown"),
        BounceRequest.FailedRecipient.local("carol@example.net", "Unrouteable address", NOW)));
    MimeMessage m = parse(bounce);
    assertEquals("Mail Delivery System <Mailer-Daemon@mx.postern.test>", m.getHeader("From", null));
    assertEquals("<alice@example.org>", m.getHeader("To", null));
    assertEquals("Mail delivery failed: returning message to sender", m.getSubject());
    assertEquals("auto-replied", m.getHeader("Auto-Submitted", null));
    assertEquals("<E1abcDF-0000AB-Ce@mx.postern.test>", m.getMessageID());
    assertEquals("Sun, 01 Mar 2026 09:30:05 +0000", m.getHeader("Date", null));
    assertEquals(Instant.parse("2026-03-01T09:30:05Z"), m.getSentDate().toInstant());
    assertEquals("1.0", m.getHeader("MIME-Version", null));
    assertEquals("bob@example.net, carol@example.net", m.getHeader("X-Failed-Recipients", null));
    ContentType type = new ContentType(m.getContentType());
    assertEquals("multipart/report", type.getBaseType());
    assertEquals("delivery-status", type.getParameter("report-type"));

    Multipart parts = parts(m);
    assertEquals(3, parts.getCount());
    assertTrue(parts.getBodyPart(0).isMimeType("text/plain"));
    assertEquals("""
        This message was created automatically by mail delivery software.

        A message that you sent could not be delivered to one or more of its
        recipients. This is a permanent error. The following address(es) failed:

          bob@example.net
            host mx.example.net [198.51.100.7]
            SMTP error from remote mail server after RCPT TO:<bob@example.net>:
            550 5.1.1 <bob@example.net>: user unknown
          carol@example.net
            Unrouteable address
        """.replace("\n", "\r\n"), new String(raw(parts.getBodyPart(0)), StandardCharsets.US_ASCII));

    assertTrue(parts.getBodyPart(1).isMimeType("message/delivery-status"));
    List<Map<String, String>> groups = fieldGroups(new String(raw(parts.getBodyPart(1)), StandardCharsets.US_ASCII));
    assertEquals(3, groups.size());
    assertEquals(Map.of("Reporting-MTA", "dns; mx.postern.test", "X-Postern-Queue-ID", "1abcDE-0000AB-Cd",
        "Received-From-MTA", "dns; client.example", "Arrival-Date", "Sun, 01 Mar 2026 08:00:00 +0000"), groups.get(0));
    assertEquals(Map.of("Final-Recipient", "rfc822; bob@example.net", "Action", "failed", "Status", "5.1.1",
        "Remote-MTA", "dns; mx.example.net",
        "Diagnostic-Code", "smtp; 550 5.1.1 <bob@example.net>: user unknown",
        "Last-Attempt-Date", "Sun, 01 Mar 2026 09:30:00 +0000"), groups.get(1));
    assertEquals(Map.of("Final-Recipient", "rfc822; carol@example.net", "Action", "failed", "Status", "5.0.0",
        "Diagnostic-Code", "X-Postern; Unrouteable address",
        "Last-Attempt-Date", "Sun, 01 Mar 2026 09:30:05 +0000"), groups.get(2));

    assertTrue(parts.getBodyPart(2).isMimeType("text/rfc822-headers"));
    assertArrayEquals(HEADERS.getBytes(StandardCharsets.US_ASCII), raw(parts.getBodyPart(2)));
  }

  @Test
  void hostileRemoteTextCannotAddHeadersOrStatusFields() throws Exception {
    String hostile = "5.1.1 no such user\r\nBcc: victim@example.net\r\n\r\nInjected body\nX-Evil: 1";
    BounceRequest.FailedRecipient f = BounceRequest.FailedRecipient.remote("bob@example.net",
        "mx.example.net\r\nBcc: victim2@example.net", "198.51.100.7", "RCPT TO:<bob@example.net>", 550, "5.1.1",
        hostile, NOW);
    Buffer bounce = BounceMessage.build(failure(f));
    MimeMessage m = parse(bounce);
    assertNull(m.getHeader("Bcc"));
    assertNull(m.getHeader("X-Evil"));
    Multipart parts = parts(m);
    assertEquals(3, parts.getCount());
    List<Map<String, String>> groups = fieldGroups(new String(raw(parts.getBodyPart(1)), StandardCharsets.US_ASCII));
    assertEquals(2, groups.size());
    for (Map<String, String> g : groups) {
      assertFalse(g.containsKey("Bcc"), g.toString());
      assertFalse(g.containsKey("X-Evil"), g.toString());
    }
    assertEquals("smtp; 550 5.1.1 no such user\\r\\nBcc: victim@example.net\\r\\n\\r\\nInjected body\\nX-Evil: 1",
        groups.get(1).get("Diagnostic-Code"));
    assertEquals("dns; mx.example.net\\r\\nBcc: victim2@example.net", groups.get(1).get("Remote-MTA"));
    String text = new String(raw(parts.getBodyPart(0)), StandardCharsets.US_ASCII);
    assertFalse(text.contains("\r\nBcc:"), text);
  }

  @Test
  void hostileSenderCannotAddHeaders() throws Exception {
    BounceRequest r = BounceRequest.failure(envelope("alice@example.org>\r\nBcc: <victim@example.net"),
        List.of(bob("no")), buffer(HEADERS), "mx.postern.test", "1abcDF-0000AB-Ce", NOW);
    MimeMessage m = parse(BounceMessage.build(r));
    assertNull(m.getHeader("Bcc"));
    assertEquals("<alice@example.org>\\r\\nBcc: <victim@example.net>", m.getHeader("To", null));
  }

  @Test
  void everyLineEndsInCrlfAndFitsIn998Octets() throws Exception {
    String longText = "5.1.1 " + "word ".repeat(600) + "x".repeat(3000);
    Buffer bounce = BounceMessage.build(failure(bob(longText)));
    byte[] b = bounce.getBytes();
    int lineStart = 0;
    for (int i = 0; i < b.length; i++) {
      if (b[i] == '\n') {
        assertTrue(i > 0 && b[i - 1] == '\r', "bare LF at " + i);
        assertTrue(i - 1 - lineStart <= 998, "line of " + (i - 1 - lineStart) + " octets at " + lineStart);
        lineStart = i + 1;
      } else if (b[i] == '\r') {
        assertTrue(i + 1 < b.length && b[i + 1] == '\n', "bare CR at " + i);
      }
    }
    assertEquals(b.length, lineStart, "ends with CRLF");
    MimeMessage m = parse(bounce);
    List<Map<String, String>> groups = fieldGroups(new String(raw(parts(m).getBodyPart(1)), StandardCharsets.US_ASCII));
    String diag = groups.get(1).get("Diagnostic-Code");
    assertEquals(("smtp; 550 " + longText).replace(" ", ""), diag.replace(" ", ""), "folding loses nothing but spaces");
  }

  @Test
  void wholeMessageIsReturnedWhenAskedAndSmallEnough() throws Exception {
    BounceRequest r = failure(bob("no")).returningMessage(buffer(MESSAGE), 1000);
    Multipart parts = parts(parse(BounceMessage.build(r)));
    BodyPart third = parts.getBodyPart(2);
    assertTrue(third.isMimeType("message/rfc822"));
    assertArrayEquals(MESSAGE.getBytes(StandardCharsets.US_ASCII), raw(third));
    MimeMessage inner = (MimeMessage) third.getContent();
    assertEquals("Lunch?", inner.getSubject());
  }

  @Test
  void tooLargeMessageReturnsHeadersOnlyAndSaysSo() throws Exception {
    BounceRequest r = failure(bob("no")).returningMessage(buffer(MESSAGE), 100);
    Multipart parts = parts(parse(BounceMessage.build(r)));
    assertTrue(parts.getBodyPart(2).isMimeType("text/rfc822-headers"));
    assertArrayEquals(HEADERS.getBytes(StandardCharsets.US_ASCII), raw(parts.getBodyPart(2)));
    String text = new String(raw(parts.getBodyPart(0)), StandardCharsets.US_ASCII);
    assertTrue(text.endsWith("\r\nThe message is larger than bounce_return_size_limit (100 bytes), "
        + "so only its headers are returned.\r\n"), text);
  }

  @Test
  void bareLfAndEightBitOriginalsAreAttachedSafely() throws Exception {
    String lf = "From: J\u00f6rg <j@example.org>\nSubject: caf\u00e9\n\n";
    BounceRequest r = BounceRequest.failure(envelope("j@example.org"), List.of(bob("no")), buffer(lf),
        "mx.postern.test", "1abcDF-0000AB-Ce", NOW);
    Buffer bounce = BounceMessage.build(r);
    assertTrue(bounce.toString(StandardCharsets.ISO_8859_1).contains(
        "Content-Type: text/rfc822-headers\r\nContent-Transfer-Encoding: 8bit\r\n\r\nFrom: J\u00f6rg"));
    Multipart parts = parts(parse(bounce));
    assertArrayEquals(lf.replace("\n", "\r\n").getBytes(StandardCharsets.ISO_8859_1), raw(parts.getBodyPart(2)));
  }

  @Test
  void boundaryNeverOccursInTheAttachedMessage() throws Exception {
    String trap = HEADERS.replace("Subject: Lunch?", "Subject: --=_1abcDF-0000AB-Ce_0 and --=_1abcDF-0000AB-Ce_1");
    BounceRequest r = BounceRequest.failure(envelope("alice@example.org"), List.of(bob("no")), buffer(trap),
        "mx.postern.test", "1abcDF-0000AB-Ce", NOW);
    MimeMessage m = parse(BounceMessage.build(r));
    assertEquals("=_1abcDF-0000AB-Ce_2", new ContentType(m.getContentType()).getParameter("boundary"));
    assertEquals(3, parts(m).getCount());
    assertArrayEquals(trap.getBytes(StandardCharsets.US_ASCII), raw(parts(m).getBodyPart(2)));
  }

  @Test
  void delayWarningReportsDelayedRecipients() throws Exception {
    BounceRequest.FailedRecipient deferred = BounceRequest.FailedRecipient.remote("bob@example.net",
        "mx.example.net", "198.51.100.7", "RCPT TO:<bob@example.net>", 451, "4.2.0", "4.2.0 try later", NOW);
    BounceRequest r = BounceRequest.delayWarning(envelope("alice@example.org"), List.of(deferred), buffer(HEADERS),
        "mx.postern.test", "1abcDF-0000AB-Ce", NOW, Duration.ofHours(24).plusMinutes(3));
    MimeMessage m = parse(BounceMessage.build(r));
    assertEquals("Warning: message 1abcDE-0000AB-Cd delayed 24 hours", m.getSubject());
    assertEquals("auto-replied", m.getHeader("Auto-Submitted", null));
    assertNull(m.getHeader("X-Failed-Recipients"));
    Multipart parts = parts(m);
    String text = new String(raw(parts.getBodyPart(0)), StandardCharsets.US_ASCII);
    assertTrue(text.startsWith("This message was created automatically by mail delivery software.\r\n"
        + "A message that you sent has not yet been delivered to one or more of its\r\n"
        + "recipients after more than 24 hours on the queue on mx.postern.test.\r\n\r\n"
        + "The message identifier is:     1abcDE-0000AB-Cd\r\n"
        + "The date of the message is:    Sun, 01 Mar 2026 08:00:00 +0000\r\n\r\n"
        + "The address to which the message has not yet been delivered is:\r\n\r\n"
        + "  bob@example.net\r\n    host mx.example.net [198.51.100.7]\r\n"), text);
    Map<String, String> rcpt = fieldGroups(new String(raw(parts.getBodyPart(1)), StandardCharsets.US_ASCII)).get(1);
    assertEquals("delayed", rcpt.get("Action"));
    assertEquals("4.2.0", rcpt.get("Status"));
    assertEquals("smtp; 451 4.2.0 try later", rcpt.get("Diagnostic-Code"));
    assertTrue(parts.getBodyPart(2).isMimeType("text/rfc822-headers"));
  }

  @Test
  void statusClassFollowsTheAction() {
    assertEquals("5.1.1", BounceMessage.status(bob("x"), BounceRequest.Kind.FAILED));
    assertEquals("4.0.0", BounceMessage.status(bob("x"), BounceRequest.Kind.DELAYED));
    BounceRequest.FailedRecipient temp = BounceRequest.FailedRecipient.remote("b@example.net", "mx", null, null,
        452, "4.2.2", "full", null);
    assertEquals("5.0.0", BounceMessage.status(temp, BounceRequest.Kind.FAILED));
    assertEquals("4.2.2", BounceMessage.status(temp, BounceRequest.Kind.DELAYED));
    BounceRequest.FailedRecipient junk = BounceRequest.FailedRecipient.remote("b@example.net", "mx", null, null,
        550, "5.1.1\r\nBcc: x", "no", null);
    assertEquals("5.0.0", BounceMessage.status(junk, BounceRequest.Kind.FAILED));
  }

  @Test
  void foldingBreaksAtSpacesNearColumn78() {
    assertEquals("Subject: short\r\n", BounceMessage.fold("Subject", "short"));
    String value = "a".repeat(40) + " " + "b".repeat(40) + " " + "c".repeat(10);
    assertEquals("X-Test: " + "a".repeat(40) + "\r\n " + "b".repeat(40) + " " + "c".repeat(10) + "\r\n",
        BounceMessage.fold("X-Test", value));
    String huge = BounceMessage.fold("X-Test", "z".repeat(2500));
    for (String line : huge.split("\r\n")) {
      assertTrue(line.length() <= 998, "line of " + line.length());
    }
    assertEquals("X-Test: " + "z".repeat(2500), huge.replace("\r\n ", "").trim());
  }

  @Test
  void delayWordsAsExim() {
    assertEquals("119 minutes", BounceMessage.delayWords(Duration.ofMinutes(119)));
    assertEquals("2 hours", BounceMessage.delayWords(Duration.ofMinutes(120)));
    assertEquals("24 hours", BounceMessage.delayWords(Duration.ofHours(24).plusMinutes(59)));
  }

  @Test
  void headerSectionStopsAtTheFirstEmptyLine() {
    assertEquals(HEADERS, BounceMessage.headerSection(buffer(MESSAGE)).toString(StandardCharsets.US_ASCII));
    assertEquals("A: b\nC: d\n\n", BounceMessage.headerSection(buffer("A: b\nC: d\n\nbody\n\nmore")).toString());
    assertEquals("A: b\r\n", BounceMessage.headerSection(buffer("A: b\r\n")).toString());
  }

  @Test
  void requestsAreValidated() {
    org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () ->
        BounceRequest.failure(envelope("a@example.org"), List.of(), buffer(HEADERS), "h", "1abcDF-0000AB-Ce", NOW));
    org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () ->
        new BounceRequest(BounceRequest.Kind.DELAYED, envelope("a@example.org"), List.of(bob("x")), buffer(HEADERS),
            null, false, 0, "h", "1abcDF-0000AB-Ce", NOW, null));
    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () ->
        BounceRequest.failure(envelope(""), List.of(bob("x")), buffer(HEADERS), "h", "1abcDF-0000AB-Ce", NOW));
    assertEquals("no report is ever sent to the null sender <>", e.getMessage());
  }

  /** RFC 6533: about an SMTPUTF8 message, the global report types and the utf-8 address type. */
  @Test
  void aReportAboutAnSmtpUtf8MessageIsGlobal() throws Exception {
    Envelope base = envelope("alice@example.org");
    Envelope utf8 = new Envelope(base.id(), base.sender(), base.recipients(), base.receivedAt(), base.hostAddress(),
        base.hostPort(), base.heloName(), base.protocol(), base.interfaceAddress(), base.interfacePort(), null,
        "8BITMIME", base.size(), false, 0, null, null, true, false);
    String headers = "From: jürgen@bücher.example\r\nSubject: Grüße\r\n\r\n";
    BounceRequest.FailedRecipient jurgen = BounceRequest.FailedRecipient.remote("jür gen+x=y@bücher.example", null,
        null, null, 553, "5.6.7", "the address is UTF-8 and the next hop does not offer SMTPUTF8", NOW);
    Buffer built = BounceMessage.build(BounceRequest.failure(utf8, List.of(jurgen, bob("no such user")),
        Buffer.buffer(headers.getBytes(StandardCharsets.UTF_8)), "mx.postern.test", "1abcDF-0000AB-Ce", NOW));
    Multipart parts = parts(parse(built));
    assertTrue(parts.getBodyPart(1).isMimeType("message/global-delivery-status"), parts.getBodyPart(1).getContentType());
    assertTrue(parts.getBodyPart(2).isMimeType("message/global-headers"), parts.getBodyPart(2).getContentType());
    List<Map<String, String>> groups = fieldGroups(new String(raw(parts.getBodyPart(1)), StandardCharsets.UTF_8));
    // utf-8-addr-unitext: UTF-8 as it is; space, "+" and "=" as \x{HEX}.
    assertEquals("utf-8; jür\\x{20}gen\\x{2B}x\\x{3D}y@bücher.example", groups.get(1).get("Final-Recipient"));
    assertEquals("5.6.7", groups.get(1).get("Status"));
    assertEquals("rfc822; bob@example.net", groups.get(2).get("Final-Recipient"), "an ASCII address keeps rfc822");
    assertArrayEquals(headers.getBytes(StandardCharsets.UTF_8), raw(parts.getBodyPart(2)));
    assertEquals("utf-8; jü\\x{5C}b@c.example", BounceMessage.finalRecipient("jü\\b@c.example", true));
    assertEquals("rfc822; j\\303\\274rgen@example.net", BounceMessage.finalRecipient("jürgen@example.net", false),
        "a classic report never holds raw UTF-8");
  }
}
