package org.postern;

import io.vertx.core.Handler;
import io.vertx.core.eventbus.DeliveryContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postern.bus.Addresses;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient;
import org.postern.testing.SmtpTestClient.Reply;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * SMTP protocol conformance of a real Postern over real sockets: RFC 5321 (commands, sequence,
 * syntax, line limits, relay policy), RFC 3463/2034 (enhanced status codes), RFC 1870 (SIZE),
 * RFC 2920 (PIPELINING and synchronization) and RFC 6152 (8BITMIME).
 *
 * <p>Every reply read by these tests goes through {@link #assertWellFormed}: the client already
 * refuses lines that are not {@code ddd-text} / {@code ddd text} ended by CRLF, and the helper adds
 * that the code is a valid RFC 5321 code and that (except for the greeting, HELO/EHLO and 354)
 * every line carries an enhanced status code whose class matches the reply's first digit.
 *
 * <p>Refusals are backed by proof that nothing was accepted: the spool ends up empty and no
 * mailbox received anything ({@link Snapshot#assertNothingAccepted()}).
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class SmtpProtocolTest {
  private static final Pattern ENHANCED = Pattern.compile("([245])\\.(\\d{1,3})\\.(\\d{1,3})(?: .*)?");
  private static final String[] DEFAULT_ALIASES = {
      "postmaster: admin", "abuse: admin", "hostmaster: admin", "root: admin"};

  /** The shipped acl.yaml, except that EXPN is only for relay hosts (127.0.0.1, ::1). */
  private static final String RESTRICTED_EXPN_ACL = String.join("\n",
      "acl_check_rcpt:",
      "  - require: { verify: recipient }",
      "  - accept:  { hosts: \":\" }",
      "  - accept:  { domains: +local_domains }",
      "  - accept:  { hosts: +relay_from_hosts }",
      "  - accept:  { authenticated: \"*\" }",
      "  - deny:    { message: relay not permitted }",
      "acl_check_expn:",
      "  - accept:  { hosts: +relay_from_hosts }",
      "  - deny:    { message: Administrative prohibition }",
      "acl_check_etrn:",
      "  - accept:  { hosts: +relay_from_hosts }",
      "  - deny:    { message: Administrative prohibition }",
      "");

  /** The shipped configuration (plus a two-member alias for EXPN). */
  private static PosternTestServer server;
  /** High smtp_max_unknown_commands / smtp_max_synprot_errors, for tests that make many errors. */
  private static PosternTestServer lenient;
  /** message_size_limit 1K, recipients_max 3, one more user (carol). */
  private static PosternTestServer limited;

  @BeforeAll
  static void startServers() throws Exception {
    List<String> aliases = new ArrayList<>(List.of(DEFAULT_ALIASES));
    aliases.add("staff: alice, bob");
    server = PosternTestServer.create().aliases(aliases.toArray(String[]::new)).start();
    lenient = PosternTestServer.create()
        .option("smtp_max_unknown_commands", "100")
        .option("smtp_max_synprot_errors", "100")
        .start();
    limited = PosternTestServer.create()
        .option("message_size_limit", "1K")
        .option("recipients_max", "3")
        .users("admin:", "alice:{PLAIN}alice-secret", "bob:{PLAIN}bob-secret", "carol:")
        .start();
  }

  @AfterAll
  static void stopServers() throws Exception {
    for (PosternTestServer s : new PosternTestServer[] {server, lenient, limited}) {
      if (s != null) {
        s.close();
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Greeting, EHLO, HELO

  @Test
  void greetingIs220WithPrimaryHostname() throws Exception {
    try (Smtp s = Smtp.connect(server)) {
      assertTrue(s.greeting.lines().get(0).startsWith("mx.test.example "), s.greeting.toString());
    }
  }

  @Test
  void ehloListsRequiredExtensions() throws Exception {
    try (Smtp s = Smtp.connect(server)) {
      Reply r = s.ehlo("client.example");
      assertEquals("mx.test.example Hello client.example [127.0.0.1]", r.lines().get(0));
      List<String> keywords = r.lines().subList(1, r.lines().size());
      for (String k : List.of("SIZE 52428800", "8BITMIME", "PIPELINING", "ENHANCEDSTATUSCODES", "HELP")) {
        assertTrue(keywords.contains(k), "EHLO must advertise " + k + ": " + r);
      }
      assertEquals(keywords.size(), keywords.stream().distinct().count(), "duplicate keyword: " + r);
    }
  }

  @Test
  void ehloAdvertisesConfiguredSizeLimit() throws Exception {
    try (Smtp s = Smtp.connect(limited)) {
      Reply r = s.ehlo("client.example");
      assertTrue(r.lines().contains("SIZE 1024"), r.toString());
    }
  }

  @Test
  void heloGetsSingleLine250AndAllowsMail() throws Exception {
    try (Smtp s = Smtp.connect(server)) {
      Reply r = s.helo("client.example");
      assertEquals(List.of("mx.test.example Hello client.example [127.0.0.1]"), r.lines());
      s.expect("MAIL FROM:<sender@example.org>", 250, "2.1.0");
    }
  }

  @Test
  void ehloWithoutArgumentIs501() throws Exception {
    try (Smtp s = Smtp.connect(server)) {
      s.expect("EHLO", 501, "5.5.4");
      s.expect("EHLO   ", 501, "5.5.4");
      s.expect("MAIL FROM:<sender@example.org>", 503, "5.5.1");
    }
  }

  @Test
  void heloWithoutArgumentIs501() throws Exception {
    try (Smtp s = Smtp.connect(server)) {
      s.expect("HELO", 501, "5.5.4");
      s.expect("MAIL FROM:<sender@example.org>", 503, "5.5.1");
    }
  }

  @Test
  void invalidHeloArgumentIs501() throws Exception {
    try (Smtp s = Smtp.connect(lenient)) {
      s.expect("HELO bad!name", 501, "5.5.2");
      s.expect("EHLO two words", 501, "5.5.2");
      s.expect("HELO -leading-hyphen", 501, "5.5.2");
      // None of them greeted the session.
      s.expect("MAIL FROM:<sender@example.org>", 503, "5.5.1");
      s.expect("HELO [127.0.0.1]", 250, null);
    }
  }

  @Test
  void commandVerbsAreCaseInsensitive() throws Exception {
    Snapshot snap = Snapshot.of(server);
    try (Smtp s = Smtp.connect(server)) {
      s.ehlo("client.example", "ehlo");
      s.expect("mail from:<sender@example.org>", 250, "2.1.0");
      s.expect("rcpt to:<alice@test.example>", 250, "2.1.5");
      s.expect("data", 354, null);
      s.message("Subject: lower case\r\n\r\nhi\r\n");
      s.quit();
    }
    snap.awaitDelivered("alice");
  }

  /** RFC 5321 4.1.4: a second EHLO clears the transaction like RSET. */
  @Test
  void repeatedEhloResetsTheTransaction() throws Exception {
    Snapshot snap = Snapshot.of(server);
    try (Smtp s = Smtp.connect(server)) {
      s.ehlo("client.example");
      s.expect("MAIL FROM:<sender@example.org>", 250, "2.1.0");
      s.expect("RCPT TO:<alice@test.example>", 250, "2.1.5");
      s.ehlo("client.example");
      s.expect("DATA", 503, "5.5.1");
      s.expect("RCPT TO:<alice@test.example>", 503, "5.5.1");
    }
    snap.assertNothingAccepted();
  }

  /** RFC 5321 2.4: domain names are case-insensitive. */
  @Test
  void recipientDomainIsCaseInsensitive() throws Exception {
    Snapshot snap = Snapshot.of(server);
    try (Smtp s = Smtp.connectFrom("127.0.0.2", server)) {
      s.ehlo("client.example");
      s.expect("MAIL FROM:<sender@example.org>", 250, "2.1.0");
      s.expect("RCPT TO:<alice@TEST.Example>", 250, "2.1.5");
      s.expect("DATA", 354, null);
      s.message("Subject: case\r\n\r\nx\r\n");
    }
    snap.awaitDelivered("alice");
  }

  // ---------------------------------------------------------------------------------------------
  // Sequence errors (503 5.5.1)

  @Test
  void mailBeforeEhloIs503() throws Exception {
    Snapshot snap = Snapshot.of(server);
    try (Smtp s = Smtp.connect(server)) {
      s.expect("MAIL FROM:<sender@example.org>", 503, "5.5.1");
      s.ehlo("client.example");
      // The refused MAIL did not open a transaction.
      s.expect("RCPT TO:<alice@test.example>", 503, "5.5.1");
    }
    snap.assertNothingAccepted();
  }

  @Test
  void rcptBeforeMailIs503() throws Exception {
    Snapshot snap = Snapshot.of(server);
    try (Smtp s = Smtp.connect(server)) {
      s.ehlo("client.example");
      s.expect("RCPT TO:<alice@test.example>", 503, "5.5.1");
    }
    snap.assertNothingAccepted();
  }

  @Test
  void dataBeforeMailIs503() throws Exception {
    Snapshot snap = Snapshot.of(server);
    try (Smtp s = Smtp.connect(server)) {
      s.ehlo("client.example");
      s.expect("DATA", 503, "5.5.1");
      s.expect("NOOP", 250, "2.0.0");
    }
    snap.assertNothingAccepted();
  }

  @Test
  void dataBeforeRcptIs503() throws Exception {
    Snapshot snap = Snapshot.of(server);
    try (Smtp s = Smtp.connect(server)) {
      s.ehlo("client.example");
      s.expect("MAIL FROM:<sender@example.org>", 250, "2.1.0");
      s.expect("DATA", 503, "5.5.1");
      s.expect("NOOP", 250, "2.0.0");
    }
    snap.assertNothingAccepted();
  }

  @Test
  void secondMailInTransactionIs503() throws Exception {
    Snapshot snap = Snapshot.of(server);
    try (Smtp s = Smtp.connect(server)) {
      s.ehlo("client.example");
      s.expect("MAIL FROM:<first@example.org>", 250, "2.1.0");
      s.expect("MAIL FROM:<second@example.org>", 503, "5.5.1");
      // The first sender is still the one in force.
      s.expect("RCPT TO:<alice@test.example>", 250, "2.1.5");
      s.expect("DATA", 354, null);
      s.message("Subject: nested\r\n\r\nx\r\n");
    }
    Path msg = snap.awaitDelivered("alice");
    assertTrue(Files.readString(msg).startsWith("Return-Path: <first@example.org>\r\n"));
  }

  // ---------------------------------------------------------------------------------------------
  // MAIL / RCPT syntax and parameters

  @Test
  void mailWithoutFromIs501() throws Exception {
    Snapshot snap = Snapshot.of(lenient);
    try (Smtp s = Smtp.connect(lenient)) {
      s.ehlo("client.example");
      s.expect("MAIL", 501, "5.5.4");
      s.expect("MAIL <sender@example.org>", 501, "5.5.4");
      s.expect("MAIL TO:<sender@example.org>", 501, "5.5.4");
      s.expect("MAIL FROM", 501, "5.5.4");
      s.expect("RCPT TO:<alice@test.example>", 503, "5.5.1");
      s.expect("MAIL FROM:<sender@example.org>", 250, "2.1.0");
    }
    snap.assertNothingAccepted();
  }

  @Test
  void badSenderSyntaxIs501WithBadSenderCode() throws Exception {
    Snapshot snap = Snapshot.of(lenient);
    try (Smtp s = Smtp.connect(lenient)) {
      s.ehlo("client.example");
      for (String bad : List.of("<no-domain>", "<a@b..example>", "<sender@example.org", "<a b@example.org>",
          "<@example.org>", "<sender@-bad.example>")) {
        s.expect("MAIL FROM:" + bad, 501, "5.1.7");
      }
      s.expect("RCPT TO:<alice@test.example>", 503, "5.5.1");
    }
    snap.assertNothingAccepted();
  }

  @Test
  void badRecipientSyntaxIs501WithBadDestinationCode() throws Exception {
    Snapshot snap = Snapshot.of(lenient);
    try (Smtp s = Smtp.connect(lenient)) {
      s.ehlo("client.example");
      s.expect("MAIL FROM:<sender@example.org>", 250, "2.1.0");
      for (String bad : List.of("<alice@>", "<>", "<@test.example>", "<alice@test.example", "<al ice@test.example>")) {
        s.expect("RCPT TO:" + bad, 501, "5.1.3");
      }
      s.expect("RCPT <alice@test.example>", 501, "5.5.4");
      // No recipient was accepted.
      s.expect("DATA", 503, "5.5.1");
    }
    snap.assertNothingAccepted();
  }

  @Test
  void unknownMailParameterIs555() throws Exception {
    Snapshot snap = Snapshot.of(server);
    try (Smtp s = Smtp.connect(server)) {
      s.ehlo("client.example");
      s.expect("MAIL FROM:<sender@example.org> XFOO=bar", 555, "5.5.4");
      s.expect("MAIL FROM:<sender@example.org> XFLAG", 555, "5.5.4");
      // Not in a transaction: a valid MAIL is now accepted.
      s.expect("MAIL FROM:<sender@example.org>", 250, "2.1.0");
    }
    snap.assertNothingAccepted();
  }

  @Test
  void unknownRcptParameterIs555() throws Exception {
    Snapshot snap = Snapshot.of(server);
    try (Smtp s = Smtp.connect(server)) {
      s.ehlo("client.example");
      s.expect("MAIL FROM:<sender@example.org>", 250, "2.1.0");
      s.expect("RCPT TO:<alice@test.example> XBAR=1", 555, "5.5.4");
      s.expect("DATA", 503, "5.5.1");
    }
    snap.assertNothingAccepted();
  }

  @Test
  void mailParametersAfterHeloAre555() throws Exception {
    Snapshot snap = Snapshot.of(server);
    try (Smtp s = Smtp.connect(server)) {
      s.helo("client.example");
      s.expect("MAIL FROM:<sender@example.org> SIZE=100", 555, "5.5.4");
      s.expect("MAIL FROM:<sender@example.org> BODY=8BITMIME", 555, "5.5.4");
      s.expect("MAIL FROM:<sender@example.org>", 250, "2.1.0");
    }
    snap.assertNothingAccepted();
  }

  @Test
  void sizeOverLimitIs552() throws Exception {
    Snapshot snap = Snapshot.of(limited);
    try (Smtp s = Smtp.connect(limited)) {
      s.ehlo("client.example");
      s.expect("MAIL FROM:<sender@example.org> SIZE=1025", 552, "5.3.4");
      s.expect("MAIL FROM:<sender@example.org> SIZE=999999999999", 552, "5.3.4");
      s.expect("RCPT TO:<alice@test.example>", 503, "5.5.1");
      s.expect("MAIL FROM:<sender@example.org> SIZE=1024", 250, "2.1.0");
    }
    snap.assertNothingAccepted();
  }

  /** RFC 1870: size-value ::= 1*20DIGIT, so a 20-digit SIZE is valid syntax and simply too big. */
  @Test
  void twentyDigitSizeIs552NotSyntaxError() throws Exception {
    Snapshot snap = Snapshot.of(limited);
    try (Smtp s = Smtp.connect(limited)) {
      s.ehlo("client.example");
      s.expect("MAIL FROM:<sender@example.org> SIZE=99999999999999999999", 552, "5.3.4");
    }
    snap.assertNothingAccepted();
  }

  @Test
  void nonNumericSizeIs501() throws Exception {
    Snapshot snap = Snapshot.of(server);
    try (Smtp s = Smtp.connect(server)) {
      s.ehlo("client.example");
      s.expect("MAIL FROM:<sender@example.org> SIZE=abc", 501, "5.5.4");
      s.expect("MAIL FROM:<sender@example.org> SIZE", 501, "5.5.4");
      s.expect("MAIL FROM:<sender@example.org> SIZE=-1", 501, "5.5.4");
    }
    snap.assertNothingAccepted();
  }

  @Test
  void contentOverSizeLimitIs552AndNotDelivered() throws Exception {
    Snapshot snap = Snapshot.of(limited);
    try (Smtp s = Smtp.connect(limited)) {
      s.ehlo("client.example");
      s.expect("MAIL FROM:<sender@example.org>", 250, "2.1.0");
      s.expect("RCPT TO:<alice@test.example>", 250, "2.1.5");
      s.expect("DATA", 354, null);
      StringBuilder big = new StringBuilder("Subject: big\r\n\r\n");
      while (big.length() < 3000) {
        big.append("0123456789012345678901234567890123456789012345678901234567890123456789\r\n");
      }
      Reply r = s.messageReply(big.toString());
      assertReply(r, 552, "5.3.4");
      // The session survives and the transaction is gone.
      s.expect("RCPT TO:<alice@test.example>", 503, "5.5.1");
      s.expect("NOOP", 250, "2.0.0");
    }
    Thread.sleep(300);
    snap.assertNothingAccepted();
  }

  @Test
  void body8BitMimeIsAcceptedAndPreserved() throws Exception {
    Snapshot snap = Snapshot.of(server);
    byte[] eight = "caf\u00e9 \u00fcber na\u00efve".getBytes(StandardCharsets.UTF_8);
    try (Smtp s = Smtp.connect(server)) {
      s.ehlo("client.example");
      s.expect("MAIL FROM:<sender@example.org> BODY=8BITMIME", 250, "2.1.0");
      s.expect("RCPT TO:<alice@test.example>", 250, "2.1.5");
      s.expect("DATA", 354, null);
      java.io.ByteArrayOutputStream content = new java.io.ByteArrayOutputStream();
      content.write("Subject: 8bit\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      content.write(eight);
      content.write("\r\n.\r\n".getBytes(StandardCharsets.US_ASCII));
      s.client.sendRaw(content.toByteArray());
      assertReply(s.read(), 250, "2.0.0");
      s.expect("MAIL FROM:<sender@example.org> BODY=7BIT", 250, "2.1.0");
    }
    Path msg = snap.awaitDelivered("alice");
    byte[] stored = Files.readAllBytes(msg);
    byte[] tail = new byte[eight.length + 2];
    System.arraycopy(stored, stored.length - tail.length, tail, 0, tail.length);
    byte[] expected = new byte[eight.length + 2];
    System.arraycopy(eight, 0, expected, 0, eight.length);
    expected[eight.length] = '\r';
    expected[eight.length + 1] = '\n';
    assertArrayEquals(expected, tail, "8-bit content must be stored unchanged");
  }

  @Test
  void bodyBinaryMimeIsRefused() throws Exception {
    Snapshot snap = Snapshot.of(server);
    try (Smtp s = Smtp.connect(server)) {
      s.ehlo("client.example");
      s.expect("MAIL FROM:<sender@example.org> BODY=BINARYMIME", 501, "5.5.4");
      s.expect("MAIL FROM:<sender@example.org> BODY=BOGUS", 501, "5.5.4");
      s.expect("RCPT TO:<alice@test.example>", 503, "5.5.1");
    }
    snap.assertNothingAccepted();
  }

  @Test
  void nullSenderIsAccepted() throws Exception {
    Snapshot snap = Snapshot.of(server);
    try (Smtp s = Smtp.connect(server)) {
      s.ehlo("client.example");
      s.expect("MAIL FROM:<>", 250, "2.1.0");
      s.expect("RCPT TO:<alice@test.example>", 250, "2.1.5");
      s.expect("DATA", 354, null);
      s.message("Subject: bounce\r\n\r\nundeliverable\r\n");
    }
    Path msg = snap.awaitDelivered("alice");
    assertTrue(Files.readString(msg).startsWith("Return-Path: <>\r\n"));
  }

  @Test
  void sourceRoutesAreAcceptedAndIgnored() throws Exception {
    Snapshot snap = Snapshot.of(server);
    try (Smtp s = Smtp.connect(server)) {
      s.ehlo("client.example");
      s.expect("MAIL FROM:<@a.example:sender@example.org>", 250, "2.1.0");
      s.expect("RCPT TO:<@a.example,@b.example:alice@test.example>", 250, "2.1.5");
      s.expect("DATA", 354, null);
      s.message("Subject: routed\r\n\r\nx\r\n");
    }
    Path msg = snap.awaitDelivered("alice");
    assertTrue(Files.readString(msg).startsWith("Return-Path: <sender@example.org>\r\n"));
  }

  @Test
  void sourceRouteToLocalRecipientAccepted() throws Exception {
    Snapshot snap = Snapshot.of(server);
    try (Smtp s = Smtp.connectFrom("127.0.0.2", server)) {
      s.ehlo("client.example");
      s.expect("MAIL FROM:<sender@example.org>", 250, "2.1.0");
      s.expect("RCPT TO:<@a.example:alice@test.example>", 250, "2.1.5");
      s.expect("DATA", 354, null);
      s.message("Subject: routed\r\n\r\nx\r\n");
    }
    snap.awaitDelivered("alice");
  }

  @Test
  void spaceAfterColonIsAccepted() throws Exception {
    Snapshot snap = Snapshot.of(server);
    try (Smtp s = Smtp.connect(server)) {
      s.ehlo("client.example");
      s.expect("MAIL FROM: <x@y>", 250, "2.1.0");
      s.expect("RCPT TO: <alice@test.example>", 250, "2.1.5");
      s.expect("DATA", 354, null);
      s.message("Subject: space\r\n\r\nx\r\n");
    }
    Path msg = snap.awaitDelivered("alice");
    assertTrue(Files.readString(msg).startsWith("Return-Path: <x@y>\r\n"));
  }

  @Test
  void postmasterWithoutDomainIsAcceptedAndDelivered() throws Exception {
    Snapshot snap = Snapshot.of(server);
    try (Smtp s = Smtp.connectFrom("127.0.0.2", server)) {
      s.ehlo("client.example");
      s.expect("MAIL FROM:<sender@example.org>", 250, "2.1.0");
      s.expect("RCPT TO:<postmaster>", 250, "2.1.5");
      s.expect("DATA", 354, null);
      s.message("Subject: to postmaster\r\n\r\nx\r\n");
    }
    snap.awaitDelivered("admin");
    snap.assertNoNewMail("alice", "bob");
  }

  @Test
  void postmasterIsCaseInsensitive() throws Exception {
    Snapshot snap = Snapshot.of(server);
    try (Smtp s = Smtp.connectFrom("127.0.0.2", server)) {
      s.ehlo("client.example");
      s.expect("MAIL FROM:<sender@example.org>", 250, "2.1.0");
      s.expect("RCPT TO:<PostMaster>", 250, "2.1.5");
      s.expect("DATA", 354, null);
      s.message("Subject: to PostMaster\r\n\r\nx\r\n");
    }
    snap.awaitDelivered("admin");
  }

  // ---------------------------------------------------------------------------------------------
  // RSET, NOOP, QUIT, HELP

  @Test
  void rsetClearsTheTransaction() throws Exception {
    Snapshot snap = Snapshot.of(server);
    try (Smtp s = Smtp.connect(server)) {
      s.ehlo("client.example");
      s.expect("MAIL FROM:<sender@example.org>", 250, "2.1.0");
      s.expect("RCPT TO:<alice@test.example>", 250, "2.1.5");
      s.expect("RSET", 250, "2.0.0");
      s.expect("RCPT TO:<alice@test.example>", 503, "5.5.1");
      s.expect("DATA", 503, "5.5.1");
      // RSET keeps the EHLO state: a new transaction needs no new greeting.
      s.expect("MAIL FROM:<other@example.org>", 250, "2.1.0");
    }
    snap.assertNothingAccepted();
  }

  @Test
  void rsetWithArgumentIs501() throws Exception {
    try (Smtp s = Smtp.connect(server)) {
      s.ehlo("client.example");
      s.expect("MAIL FROM:<sender@example.org>", 250, "2.1.0");
      s.expect("RSET now", 501, "5.5.4");
      // A refused RSET did not reset.
      s.expect("RCPT TO:<alice@test.example>", 250, "2.1.5");
    }
  }

  @Test
  void noopIs250() throws Exception {
    try (Smtp s = Smtp.connect(server)) {
      s.expect("NOOP", 250, "2.0.0");
      s.expect("NOOP ignored argument", 250, "2.0.0");
      // RSET is allowed at any time, even before HELO/EHLO.
      s.expect("RSET", 250, "2.0.0");
    }
  }

  @Test
  void quitIs221ThenClose() throws Exception {
    try (Smtp s = Smtp.connect(server)) {
      s.ehlo("client.example");
      s.expect("QUIT", 221, "2.0.0");
      s.assertClosed();
    }
  }

  @Test
  void helpIs214() throws Exception {
    try (Smtp s = Smtp.connect(server)) {
      Reply r = s.cmd("HELP");
      assertEquals(214, r.code(), r.toString());
      assertEquals("2.0.0", r.enhanced(), r.toString());
      assertTrue(r.text().contains("EHLO"), r.toString());
      s.expect("NOOP", 250, "2.0.0");
    }
  }

  // ---------------------------------------------------------------------------------------------
  // VRFY, EXPN, ETRN, TURN

  @Test
  void vrfyIs252ByDefault() throws Exception {
    try (Smtp s = Smtp.connect(server)) {
      s.ehlo("client.example");
      s.expect("VRFY alice", 252, "2.1.5");
      // Unknown users get the same answer: VRFY tells a harvester nothing.
      s.expect("VRFY <nobody@test.example>", 252, "2.1.5");
    }
  }

  @Test
  void vrfyWithoutArgumentIs501() throws Exception {
    try (Smtp s = Smtp.connect(server)) {
      s.ehlo("client.example");
      s.expect("VRFY", 501, "5.5.4");
    }
  }

  @Test
  void expnPostmasterFromLocalhost() throws Exception {
    try (Smtp s = Smtp.connect(server)) {
      s.ehlo("client.example");
      Reply r = s.expect("EXPN postmaster", 250, "2.1.5");
      assertEquals(List.of("2.1.5 <admin@mx.test.example>"), r.lines());
    }
  }

  @Test
  void expnListsOneMemberPerLine() throws Exception {
    try (Smtp s = Smtp.connect(server)) {
      s.ehlo("client.example");
      Reply r = s.expect("EXPN staff", 250, "2.1.5");
      assertEquals(List.of("2.1.5 <alice@mx.test.example>", "2.1.5 <bob@mx.test.example>"), r.lines());
    }
  }

  /** The expn ACL refuses: 550 5.7.1 and no member is revealed. */
  @Test
  void expnRefusedByAclIs550() throws Exception {
    try (PosternTestServer restricted = PosternTestServer.create().acl(RESTRICTED_EXPN_ACL).start();
         Smtp s = Smtp.connectFrom("127.0.0.2", restricted)) {
      s.ehlo("client.example");
      Reply r = s.expect("EXPN postmaster", 550, "5.7.1");
      assertFalse(r.text().contains("admin"), "a refused EXPN must not leak members: " + r);
      s.expect("EXPN nobody", 550, "5.7.1");
    }
  }

  /** The shipped expn ACL admits every loopback address (127.0.0.0/8 and ::1), not only relay hosts. */
  @Test
  void expnFromOtherLoopbackAddressIsAllowedByShippedPolicy() throws Exception {
    try (Smtp s = Smtp.connectFrom("127.0.0.2", server)) {
      s.ehlo("client.example");
      Reply r = s.expect("EXPN postmaster", 250, "2.1.5");
      assertTrue(r.text().contains("<admin@mx.test.example>"), r.toString());
    }
  }

  @Test
  void expnOfUnknownNameIs550() throws Exception {
    try (Smtp s = Smtp.connect(server)) {
      s.ehlo("client.example");
      s.expect("EXPN nobody", 550, "5.1.1");
    }
  }

  @Test
  void etrnFromRelayHostWithNothingQueuedIs251() throws Exception {
    try (Smtp s = Smtp.connect(server)) {
      s.ehlo("client.example");
      s.expect("ETRN example.org", 251, "2.0.0");
    }
  }

  @Test
  void etrnWithoutArgumentIs501() throws Exception {
    try (Smtp s = Smtp.connect(server)) {
      s.ehlo("client.example");
      s.expect("ETRN", 501, "5.5.4");
    }
  }

  @Test
  void etrnFromOtherHostIs458() throws Exception {
    try (Smtp s = Smtp.connectFrom("127.0.0.2", server)) {
      s.ehlo("client.example");
      s.expect("ETRN example.org", 458, "4.7.1");
    }
  }

  @Test
  void turnIs502() throws Exception {
    try (Smtp s = Smtp.connect(server)) {
      s.ehlo("client.example");
      s.expect("TURN", 502, "5.5.1");
      s.expect("NOOP", 250, "2.0.0");
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Unknown commands and error limits

  @Test
  void unknownCommandIs500() throws Exception {
    try (Smtp s = Smtp.connect(server)) {
      s.expect("FROB nicate", 500, "5.5.1");
      s.expect("NOOP", 250, "2.0.0");
    }
  }

  @Test
  void tooManyUnknownCommandsCloseWith421() throws Exception {
    try (Smtp s = Smtp.connect(server)) {
      s.ehlo("client.example");
      s.expect("FOO1", 500, "5.5.1");
      s.expect("FOO2", 500, "5.5.1");
      s.expect("FOO3", 500, "5.5.1");
      Reply r = s.expect("FOO4", 421, "4.7.0");
      assertTrue(r.text().toLowerCase().contains("unrecognized"), r.toString());
      s.assertClosed();
    }
  }

  @Test
  void tooManySyntaxErrorsCloseWith421() throws Exception {
    Snapshot snap = Snapshot.of(server);
    try (Smtp s = Smtp.connect(server)) {
      s.ehlo("client.example");
      s.expect("MAIL", 501, "5.5.4");
      s.expect("NOOP", 250, "2.0.0");
      s.expect("RCPT TO:<alice@test.example>", 503, "5.5.1");
      s.expect("MAIL FROM:<sender@example.org> XFOO=1", 555, "5.5.4");
      s.expect("MAIL FROM:<sender@example.org>", 250, "2.1.0");
      Reply r = s.expect("VRFY", 421, "4.7.0");
      assertTrue(r.text().toLowerCase().contains("error"), r.toString());
      s.assertClosed();
    }
    snap.assertNothingAccepted();
  }

  @Test
  void errorLimitsAreConfigurable() throws Exception {
    try (Smtp s = Smtp.connect(lenient)) {
      s.ehlo("client.example");
      for (int i = 0; i < 6; i++) {
        s.expect("FOO" + i, 500, "5.5.1");
        s.expect("MAIL", 501, "5.5.4");
      }
      s.expect("NOOP", 250, "2.0.0");
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Line length and forbidden characters

  @Test
  void commandLineOf512OctetsIncludingCrlfIsAccepted() throws Exception {
    try (Smtp s = Smtp.connect(server)) {
      s.ehlo("client.example");
      String line = "NOOP " + "x".repeat(505);
      assertEquals(510, line.length());
      s.expect(line, 250, "2.0.0");
      String mail = "MAIL FROM:<" + "a".repeat(64) + "@example.org>";
      s.expect(mail + " ".repeat(510 - mail.length()), 250, "2.1.0");
    }
  }

  @Test
  void commandLineOf513OctetsIsTooLong() throws Exception {
    try (Smtp s = Smtp.connect(server)) {
      s.ehlo("client.example");
      String line = "NOOP " + "x".repeat(506);
      assertEquals(511, line.length());
      s.expect(line, 500, "5.5.2");
      s.expect("NOOP", 250, "2.0.0");
    }
  }

  @Test
  void hugeCommandLineIsTooLongAndNotExecuted() throws Exception {
    Snapshot snap = Snapshot.of(server);
    try (Smtp s = Smtp.connect(server)) {
      s.ehlo("client.example");
      s.expect("NOOP " + "x".repeat(100 * 1024), 500, "5.5.2");
      s.expect("NOOP", 250, "2.0.0");
      s.expect("MAIL FROM:<sender@example.org> " + " ".repeat(100 * 1024), 500, "5.5.2");
      s.expect("RCPT TO:<alice@test.example>", 503, "5.5.1");
    }
    snap.assertNothingAccepted();
  }

  @Test
  void nulInCommandIs500() throws Exception {
    Snapshot snap = Snapshot.of(server);
    try (Smtp s = Smtp.connect(server)) {
      s.ehlo("client.example");
      s.client.send("MAIL FROM:<sender@example.org>\0\r\n");
      assertReply(s.read(), 500, "5.5.2");
      s.expect("RCPT TO:<alice@test.example>", 503, "5.5.1");
    }
    snap.assertNothingAccepted();
  }

  @Test
  void bareCrInCommandIs500() throws Exception {
    Snapshot snap = Snapshot.of(server);
    try (Smtp s = Smtp.connect(server)) {
      s.ehlo("client.example");
      s.client.send("MAIL FROM:<sender@example.org>\rRCPT TO:<alice@test.example>\r\n");
      assertReply(s.read(), 500, "5.5.2");
      s.expect("RCPT TO:<alice@test.example>", 503, "5.5.1");
    }
    snap.assertNothingAccepted();
  }

  @Test
  void bareLfEndingACommandIs500AndNotExecuted() throws Exception {
    Snapshot snap = Snapshot.of(server);
    try (Smtp s = Smtp.connect(server)) {
      s.ehlo("client.example");
      s.client.send("MAIL FROM:<a@b.example>\n");
      assertReply(s.read(), 500, "5.5.2");
      s.expect("RCPT TO:<alice@test.example>", 503, "5.5.1");
    }
    snap.assertNothingAccepted();
  }

  // ---------------------------------------------------------------------------------------------
  // Relay policy and recipient limits

  @Test
  void relayHostMayRelayAndMessageStaysQueued() throws Exception {
    try (PosternTestServer relay = PosternTestServer.create().start()) {
      String id;
      try (Smtp s = Smtp.connect(relay)) {
        s.ehlo("client.example");
        s.expect("MAIL FROM:<sender@example.org>", 250, "2.1.0");
        s.expect("RCPT TO:<x@remote.example>", 250, "2.1.5");
        s.expect("DATA", 354, null);
        Reply r = s.message("Subject: relay\r\n\r\nx\r\n");
        Matcher m = Pattern.compile("id=(\\S+)").matcher(r.text());
        assertTrue(m.find(), r.toString());
        id = m.group(1);
        s.quit();
      }
      // Remote delivery does not exist yet, so the message must stay in the spool.
      Thread.sleep(500);
      List<String> spool = relay.spoolFiles();
      assertTrue(spool.contains(id + "-H"), "spool must keep " + id + "-H: " + spool);
      assertTrue(spool.contains(id + "-D"), "spool must keep " + id + "-D: " + spool);
      for (String user : List.of("admin", "alice", "bob")) {
        assertEquals(List.of(), relay.mailbox(user));
      }
    }
  }

  @Test
  void nonRelayHostMayNotRelay() throws Exception {
    Snapshot snap = Snapshot.of(server);
    try (Smtp s = Smtp.connectFrom("127.0.0.2", server)) {
      s.ehlo("client.example");
      s.expect("MAIL FROM:<sender@example.org>", 250, "2.1.0");
      Reply r = s.expect("RCPT TO:<x@remote.example>", 550, "5.7.1");
      assertTrue(r.text().contains("relay not permitted"), r.toString());
      s.expect("RCPT TO:<alice@test.example>", 250, "2.1.5");
      s.expect("RCPT TO:<nobody@test.example>", 550, "5.1.1");
      s.expect("DATA", 354, null);
      s.message("Subject: mixed\r\n\r\nx\r\n");
    }
    // Only alice got it; nothing for the refused recipients stays queued.
    snap.awaitDelivered("alice");
    snap.assertSpoolEmpty();
    snap.assertNoNewMail("admin", "bob");
  }

  @Test
  void nonRelayHostOnlyRefusedRecipients() throws Exception {
    Snapshot snap = Snapshot.of(server);
    try (Smtp s = Smtp.connectFrom("127.0.0.2", server)) {
      s.ehlo("client.example");
      s.expect("MAIL FROM:<sender@example.org>", 250, "2.1.0");
      s.expect("RCPT TO:<x@remote.example>", 550, "5.7.1");
      s.expect("RCPT TO:<x@test.example.evil>", 550, "5.7.1");
      s.expect("DATA", 503, "5.5.1");
    }
    snap.assertNothingAccepted();
  }

  @Test
  void unknownLocalUserIs550FromAnyHost() throws Exception {
    Snapshot snap = Snapshot.of(server);
    try (Smtp s = Smtp.connect(server)) {
      s.ehlo("client.example");
      s.expect("MAIL FROM:<sender@example.org>", 250, "2.1.0");
      s.expect("RCPT TO:<nobody@test.example>", 550, "5.1.1");
      s.expect("RCPT TO:<nobody@localhost>", 550, "5.1.1");
      s.expect("DATA", 503, "5.5.1");
    }
    snap.assertNothingAccepted();
  }

  @Test
  void recipientsMaxIs452AndDataStillDelivers() throws Exception {
    Snapshot snap = Snapshot.of(limited);
    try (Smtp s = Smtp.connect(limited)) {
      s.ehlo("client.example");
      s.expect("MAIL FROM:<sender@example.org>", 250, "2.1.0");
      s.expect("RCPT TO:<alice@test.example>", 250, "2.1.5");
      s.expect("RCPT TO:<bob@test.example>", 250, "2.1.5");
      s.expect("RCPT TO:<admin@test.example>", 250, "2.1.5");
      s.expect("RCPT TO:<carol@test.example>", 452, "4.5.3");
      s.expect("DATA", 354, null);
      s.message("Subject: many\r\n\r\nx\r\n");
    }
    snap.awaitDelivered("alice");
    snap.awaitDelivered("bob");
    snap.awaitDelivered("admin");
    snap.assertNoNewMail("carol");
  }

  // ---------------------------------------------------------------------------------------------
  // PIPELINING (RFC 2920)

  @Test
  void pipelinedGroupsGetAllRepliesInOrder() throws Exception {
    Snapshot snap = Snapshot.of(server);
    try (Smtp s = Smtp.connect(server)) {
      s.ehlo("client.example");
      s.client.send("MAIL FROM:<sender@example.org>\r\nRCPT TO:<alice@test.example>\r\n"
          + "RCPT TO:<bob@test.example>\r\nDATA\r\n");
      assertReply(s.read(), 250, "2.1.0");
      assertReply(s.read(), 250, "2.1.5");
      assertReply(s.read(), 250, "2.1.5");
      assertEquals(354, s.read().code());
      s.message("Subject: pipelined 1\r\n\r\nx\r\n");

      s.client.send("RSET\r\nMAIL FROM:<>\r\nRCPT TO:<bob@test.example>\r\nDATA\r\n");
      assertReply(s.read(), 250, "2.0.0");
      assertReply(s.read(), 250, "2.1.0");
      assertReply(s.read(), 250, "2.1.5");
      assertEquals(354, s.read().code());
      s.message("Subject: pipelined 2\r\n\r\nx\r\n");
      s.quit();
    }
    snap.awaitDelivered("alice");
    List<Path> bob = snap.awaitDelivered("bob", 2);
    assertEquals(2, bob.size());
  }

  @Test
  void pipelinedFailuresDoNotFlushTheGroup() throws Exception {
    Snapshot snap = Snapshot.of(server);
    try (Smtp s = Smtp.connect(server)) {
      s.ehlo("client.example");
      s.client.send("MAIL FROM:<sender@example.org>\r\nRCPT TO:<nobody@test.example>\r\n"
          + "RCPT TO:<alice@test.example>\r\nRCPT TO:<bad@>\r\nDATA\r\n");
      assertReply(s.read(), 250, "2.1.0");
      assertReply(s.read(), 550, "5.1.1");
      assertReply(s.read(), 250, "2.1.5");
      assertReply(s.read(), 501, "5.1.3");
      assertEquals(354, s.read().code());
      s.message("Subject: partial\r\n\r\nx\r\n");
    }
    snap.awaitDelivered("alice");
  }

  @Test
  void pipelinedGroupWithFailedMailGetsAllReplies() throws Exception {
    Snapshot snap = Snapshot.of(server);
    try (Smtp s = Smtp.connect(server)) {
      s.ehlo("client.example");
      s.client.send("MAIL FROM:<bad>\r\nRCPT TO:<alice@test.example>\r\nDATA\r\n");
      assertReply(s.read(), 501, "5.1.7");
      assertReply(s.read(), 503, "5.5.1");
      assertReply(s.read(), 503, "5.5.1");
      s.expect("NOOP", 250, "2.0.0");
    }
    snap.assertNothingAccepted();
  }

  /**
   * RFC 2920 3.1: "The actual transfer of message content is explicitly allowed to be the first
   * 'command' in a group": the end of one message and the next transaction may share a write.
   */
  @Test
  void messageContentMayStartAPipelinedGroup() throws Exception {
    Snapshot snap = Snapshot.of(server);
    try (Smtp s = Smtp.connect(server)) {
      s.ehlo("client.example");
      s.client.send("MAIL FROM:<sender@example.org>\r\nRCPT TO:<alice@test.example>\r\nDATA\r\n");
      assertReply(s.read(), 250, "2.1.0");
      assertReply(s.read(), 250, "2.1.5");
      assertEquals(354, s.read().code());
      s.client.send("Subject: first\r\n\r\nx\r\n.\r\nMAIL FROM:<>\r\nRCPT TO:<bob@test.example>\r\nDATA\r\n");
      assertReply(s.read(), 250, "2.0.0");
      assertReply(s.read(), 250, "2.1.0");
      assertReply(s.read(), 250, "2.1.5");
      assertEquals(354, s.read().code());
      s.message("Subject: second\r\n\r\nx\r\n");
    }
    snap.awaitDelivered("alice");
    snap.awaitDelivered("bob");
  }

  /** RFC 2920 3.1: content first in the group, QUIT last. */
  @Test
  void quitMayBePipelinedAfterMessageContent() throws Exception {
    Snapshot snap = Snapshot.of(server);
    try (Smtp s = Smtp.connect(server)) {
      s.ehlo("client.example");
      s.expect("MAIL FROM:<sender@example.org>", 250, "2.1.0");
      s.expect("RCPT TO:<alice@test.example>", 250, "2.1.5");
      s.expect("DATA", 354, null);
      s.client.send("Subject: then quit\r\n\r\nx\r\n.\r\nQUIT\r\n");
      assertReply(s.read(), 250, "2.0.0");
      assertReply(s.read(), 221, "2.0.0");
      s.assertClosed();
    }
    snap.awaitDelivered("alice");
  }

  // ---------------------------------------------------------------------------------------------
  // Synchronization (smtp_enforce_sync)

  /**
   * A client that talks before the 220 greeting gets 554 5.5.0 and is disconnected.
   *
   * <p>The server can only see input that arrived before its greeting is ready (one bus round trip
   * after the accept), so sending right after connect is a race the client usually loses on a warm
   * JVM. To make it deterministic, the test holds the session-open message on the event bus for
   * 300 ms (an outbound interceptor, removed afterwards): the EHLO is then certainly buffered when
   * the server decides on the greeting. Each attempt must end in one of exactly two ways: 554 5.5.0
   * then close, or (only if the machine stalled for longer than the delay) the normal 220 then 250.
   * The 554 path must be seen.
   */
  @Test
  void talkingBeforeTheGreetingIs554AndClose() throws Exception {
    Snapshot snap = Snapshot.of(server);
    Handler<DeliveryContext<Object>> delayGreeting = ctx -> {
      if (ctx.message().address().startsWith(Addresses.SESSION_OPEN + ".")) {
        server.vertx().setTimer(300, t -> ctx.next());
      } else {
        ctx.next();
      }
    };
    server.vertx().eventBus().addOutboundInterceptor(delayGreeting);
    int attempts = 0;
    boolean sawSyncError = false;
    try {
      while (!sawSyncError && attempts < 5) {
        attempts++;
        try (SmtpTestClient c = SmtpTestClient.connect(server.port())) {
          c.send("EHLO client.example\r\n");
          Reply first = c.reply();
          if (first.code() == 220) {
            assertWellFormed(first, true);
            Reply ehlo = c.reply();
            assertWellFormed(ehlo, true);
            assertEquals(250, ehlo.code(), "EHLO sent while the greeting was in flight -> " + ehlo);
            continue;
          }
          assertWellFormed(first, false);
          assertReply(first, 554, "5.5.0");
          c.timeout(3000);
          assertTrue(c.closedByServer(), "server must close after a synchronization error");
          sawSyncError = true;
        }
      }
    } finally {
      server.vertx().eventBus().removeOutboundInterceptor(delayGreeting);
    }
    assertTrue(sawSyncError, "no attempt out of " + attempts + " got 554 5.5.0 for input sent before the greeting");
    snap.assertNothingAccepted();
  }

  @Test
  void pipeliningWithoutEhloIs554AndClose() throws Exception {
    Snapshot snap = Snapshot.of(server);
    try (Smtp s = Smtp.connect(server)) {
      s.helo("client.example");
      s.client.send("MAIL FROM:<a@b.example>\r\nRCPT TO:<alice@test.example>\r\n");
      assertReply(s.read(), 554, "5.5.0");
      s.assertClosed();
    }
    snap.assertNothingAccepted();
  }

  @Test
  void contentBefore354Is554AndNothingDelivered() throws Exception {
    Snapshot snap = Snapshot.of(server);
    try (Smtp s = Smtp.connect(server)) {
      s.ehlo("client.example");
      s.expect("MAIL FROM:<sender@example.org>", 250, "2.1.0");
      s.expect("RCPT TO:<alice@test.example>", 250, "2.1.5");
      s.client.send("DATA\r\nSubject: x\r\n\r\nsmuggled\r\n.\r\n");
      assertReply(s.read(), 554, "5.5.0");
      s.assertClosed();
    }
    Thread.sleep(300);
    snap.assertNothingAccepted();
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  /**
   * Checks one reply: the code is a valid RFC 5321 code and, unless {@code exempt} (greeting,
   * HELO/EHLO) or the reply is 354, each line starts with an RFC 3463 enhanced status code whose
   * class equals the reply code's first digit. Where an exempt reply carries one, it must match
   * too. Line syntax ({@code ddd[ -]text CRLF}) is already enforced by {@link SmtpTestClient}.
   */
  static void assertWellFormed(Reply r, boolean exempt) {
    int code = r.code();
    assertTrue(code >= 200 && code <= 599 && (code / 10) % 10 <= 5, "invalid reply code: " + r);
    assertFalse(r.lines().isEmpty(), "reply without lines");
    boolean required = !exempt && code != 354;
    for (String line : r.lines()) {
      Matcher m = ENHANCED.matcher(line);
      if (m.matches()) {
        assertEquals(String.valueOf(code / 100), m.group(1),
            "enhanced code class must match the reply code: " + r);
      } else if (required) {
        fail("reply line without an enhanced status code: " + code + " " + line + " (in " + r + ")");
      }
    }
  }

  static void assertReply(Reply r, int code, String enhanced) {
    assertEquals(code, r.code(), "reply code of: " + r);
    if (enhanced != null) {
      assertEquals(enhanced, r.enhanced(), "enhanced status code of: " + r);
    }
  }

  /** A client connection whose replies are all checked with {@link #assertWellFormed}. */
  static final class Smtp implements AutoCloseable {
    final SmtpTestClient client;
    final Reply greeting;

    private Smtp(SmtpTestClient client) throws IOException {
      this.client = client;
      this.greeting = client.reply();
      assertWellFormed(greeting, true);
      assertEquals(220, greeting.code(), "greeting: " + greeting);
    }

    static Smtp connect(PosternTestServer s) throws IOException {
      return new Smtp(SmtpTestClient.connect(s.port()));
    }

    static Smtp connectFrom(String address, PosternTestServer s) throws IOException {
      return new Smtp(SmtpTestClient.connectFrom(address, s.port()));
    }

    /** Reads one reply (not a HELO/EHLO answer). */
    Reply read() throws IOException {
      Reply r = client.reply();
      assertWellFormed(r, false);
      return r;
    }

    Reply cmd(String line) throws IOException {
      client.send(line + "\r\n");
      return read();
    }

    Reply expect(String line, int code, String enhanced) throws IOException {
      String shown = line.length() > 80 ? line.substring(0, 80) + "..." : line;
      client.send(line + "\r\n");
      boolean greetingCommand = line.regionMatches(true, 0, "HELO", 0, 4) || line.regionMatches(true, 0, "EHLO", 0, 4);
      Reply r = client.reply();
      assertWellFormed(r, greetingCommand && r.code() == 250);
      assertEquals(code, r.code(), shown + " -> " + r);
      if (enhanced != null) {
        assertEquals(enhanced, r.enhanced(), shown + " -> " + r);
      }
      return r;
    }

    Reply ehlo(String name) throws IOException {
      return ehlo(name, "EHLO");
    }

    Reply ehlo(String name, String verb) throws IOException {
      client.send(verb + " " + name + "\r\n");
      Reply r = client.reply();
      assertWellFormed(r, true);
      assertEquals(250, r.code(), "EHLO -> " + r);
      return r;
    }

    Reply helo(String name) throws IOException {
      client.send("HELO " + name + "\r\n");
      Reply r = client.reply();
      assertWellFormed(r, true);
      assertEquals(250, r.code(), "HELO -> " + r);
      return r;
    }

    /** Sends content (CRLF-terminated lines) and the final dot; returns the reply, unchecked. */
    Reply messageReply(String content) throws IOException {
      client.send(content + ".\r\n");
      return read();
    }

    /** Sends content and the final dot; the message must be accepted. */
    Reply message(String content) throws IOException {
      Reply r = messageReply(content);
      assertReply(r, 250, "2.0.0");
      return r;
    }

    void quit() throws IOException {
      expect("QUIT", 221, "2.0.0");
    }

    void assertClosed() throws IOException {
      client.timeout(3000);
      assertTrue(client.closedByServer(), "the server must close the connection");
    }

    @Override
    public void close() throws IOException {
      client.close();
    }
  }

  /** Mailbox contents at the start of a test, to prove what was (not) delivered since. */
  static final class Snapshot {
    private static final List<String> USERS = List.of("admin", "alice", "bob", "carol");
    private final PosternTestServer server;
    private final Map<String, List<Path>> boxes = new LinkedHashMap<>();

    private Snapshot(PosternTestServer server) throws Exception {
      this.server = server;
      // Earlier tests' deliveries are finished (they waited for them); their spool files may take
      // a moment to be removed.
      awaitSpoolEmpty(server);
      for (String u : USERS) {
        boxes.put(u, server.mailbox(u));
      }
    }

    static Snapshot of(PosternTestServer server) throws Exception {
      return new Snapshot(server);
    }

    private static void awaitSpoolEmpty(PosternTestServer s) throws Exception {
      long end = System.currentTimeMillis() + 5000;
      while (!s.spoolFiles().isEmpty() && System.currentTimeMillis() < end) {
        Thread.sleep(20);
      }
    }

    void assertSpoolEmpty() throws Exception {
      awaitSpoolEmpty(server);
      assertEquals(List.of(), server.spoolFiles(), "spool must be empty");
    }

    /** Nothing stays queued and no mailbox received anything. */
    void assertNothingAccepted() throws Exception {
      assertSpoolEmpty();
      assertNoNewMail(USERS.toArray(String[]::new));
    }

    void assertNoNewMail(String... users) throws IOException {
      for (String u : users) {
        assertEquals(boxes.get(u), server.mailbox(u), "mailbox of " + u + " must not change");
      }
    }

    /** Waits for exactly one new message for {@code user}; returns it. */
    Path awaitDelivered(String user) throws Exception {
      return awaitDelivered(user, 1).get(0);
    }

    List<Path> awaitDelivered(String user, int count) throws Exception {
      List<Path> before = boxes.get(user);
      List<Path> all = server.awaitMailbox(user, before.size() + count, 5000);
      List<Path> fresh = new ArrayList<>(all);
      fresh.removeAll(before);
      assertEquals(count, fresh.size(), "new messages for " + user + ": " + fresh);
      return fresh;
    }
  }
}
