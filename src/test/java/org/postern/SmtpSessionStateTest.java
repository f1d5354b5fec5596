package org.postern;

import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postern.bus.Addresses;
import org.postern.testing.CheckedSmtp;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient.Reply;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.testing.CheckedSmtp.assertReply;

/**
 * SMTP protocol state of a real Postern session with no socket ({@link org.postern.testing.InMemorySmtp}
 * against the real config, ACL, auth and session verticles): RFC 5321 commands, sequence, syntax,
 * parameters, line limits, error limits and relay policy, RFC 3463 enhanced status codes, RFC 1870
 * SIZE. What needs a socket (pipelining, synchronization, delivery) is in {@link SmtpProtocolTest}.
 *
 * <p>Every reply goes through {@link CheckedSmtp#assertWellFormed}. Refusals are backed by proof
 * that nothing was accepted: nothing in this tier queues or delivers, so an accepted message would
 * stay in the spool, and the spool must end up empty.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class SmtpSessionStateTest {
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
  /** message_size_limit 1K. */
  private static PosternTestServer limited;

  @BeforeAll
  static void startServers() throws Exception {
    List<String> aliases = new ArrayList<>(List.of(DEFAULT_ALIASES));
    aliases.add("staff: alice, bob");
    server = PosternTestServer.create().aliases(aliases.toArray(String[]::new)).startSessions();
    // The queue's answer to ETRN when nothing waits for the node.
    MessageConsumer<JsonObject> queue = server.vertx().eventBus().<JsonObject>localConsumer(Addresses.QUEUE_FLUSH,
        msg -> msg.reply(new JsonObject().put("started", 0)));
    queue.completion().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    lenient = PosternTestServer.create()
        .option("smtp_max_unknown_commands", "100")
        .option("smtp_max_synprot_errors", "100")
        .startSessions();
    limited = PosternTestServer.create().option("message_size_limit", "1K").startSessions();
  }

  @AfterAll
  static void stopServers() throws Exception {
    PosternTestServer.closeAll(server, lenient, limited);
  }

  /** Nothing was accepted: in this tier an accepted message would stay in the spool. */
  private static void assertNothingAccepted(PosternTestServer s) throws Exception {
    assertEquals(List.of(), s.spoolFiles(), "spool must be empty");
  }

  @Test
  void greetingIs220WithPrimaryHostname() throws Exception {
    try (CheckedSmtp s = CheckedSmtp.inMemory(server)) {
      assertTrue(s.greeting.lines().get(0).startsWith("mx.test.example "), s.greeting.toString());
    }
  }

  @Test
  void ehloListsRequiredExtensions() throws Exception {
    try (CheckedSmtp s = CheckedSmtp.inMemory(server)) {
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
    try (CheckedSmtp s = CheckedSmtp.inMemory(limited)) {
      Reply r = s.ehlo("client.example");
      assertTrue(r.lines().contains("SIZE 1024"), r.toString());
    }
  }

  @Test
  void heloGetsSingleLine250AndAllowsMail() throws Exception {
    try (CheckedSmtp s = CheckedSmtp.inMemory(server)) {
      Reply r = s.helo("client.example");
      assertEquals(List.of("mx.test.example Hello client.example [127.0.0.1]"), r.lines());
      s.expect("MAIL FROM:<sender@example.org>", 250, "2.1.0");
    }
  }

  @Test
  void ehloWithoutArgumentIs501() throws Exception {
    try (CheckedSmtp s = CheckedSmtp.inMemory(server)) {
      s.expect("EHLO", 501, "5.5.4");
      s.expect("EHLO   ", 501, "5.5.4");
      s.expect("MAIL FROM:<sender@example.org>", 503, "5.5.1");
    }
  }

  @Test
  void heloWithoutArgumentIs501() throws Exception {
    try (CheckedSmtp s = CheckedSmtp.inMemory(server)) {
      s.expect("HELO", 501, "5.5.4");
      s.expect("MAIL FROM:<sender@example.org>", 503, "5.5.1");
    }
  }

  @Test
  void invalidHeloArgumentIs501() throws Exception {
    try (CheckedSmtp s = CheckedSmtp.inMemory(lenient)) {
      s.expect("HELO bad!name", 501, "5.5.2");
      s.expect("EHLO two words", 501, "5.5.2");
      s.expect("HELO -leading-hyphen", 501, "5.5.2");
      // None of them greeted the session.
      s.expect("MAIL FROM:<sender@example.org>", 503, "5.5.1");
      s.expect("HELO [127.0.0.1]", 250, null);
    }
  }

  /** RFC 5321 4.1.4: a second EHLO clears the transaction like RSET. */
  @Test
  void repeatedEhloResetsTheTransaction() throws Exception {
        try (CheckedSmtp s = CheckedSmtp.inMemory(server)) {
      s.ehlo("client.example");
      s.expect("MAIL FROM:<sender@example.org>", 250, "2.1.0");
      s.expect("RCPT TO:<alice@test.example>", 250, "2.1.5");
      s.ehlo("client.example");
      s.expect("DATA", 503, "5.5.1");
      s.expect("RCPT TO:<alice@test.example>", 503, "5.5.1");
    }
    assertNothingAccepted(server);
  }

  @Test
  void mailBeforeEhloIs503() throws Exception {
        try (CheckedSmtp s = CheckedSmtp.inMemory(server)) {
      s.expect("MAIL FROM:<sender@example.org>", 503, "5.5.1");
      s.ehlo("client.example");
      // The refused MAIL did not open a transaction.
      s.expect("RCPT TO:<alice@test.example>", 503, "5.5.1");
    }
    assertNothingAccepted(server);
  }

  @Test
  void rcptBeforeMailIs503() throws Exception {
        try (CheckedSmtp s = CheckedSmtp.inMemory(server)) {
      s.ehlo("client.example");
      s.expect("RCPT TO:<alice@test.example>", 503, "5.5.1");
    }
    assertNothingAccepted(server);
  }

  @Test
  void dataBeforeMailIs503() throws Exception {
        try (CheckedSmtp s = CheckedSmtp.inMemory(server)) {
      s.ehlo("client.example");
      s.expect("DATA", 503, "5.5.1");
      s.expect("NOOP", 250, "2.0.0");
    }
    assertNothingAccepted(server);
  }

  @Test
  void dataBeforeRcptIs503() throws Exception {
        try (CheckedSmtp s = CheckedSmtp.inMemory(server)) {
      s.ehlo("client.example");
      s.expect("MAIL FROM:<sender@example.org>", 250, "2.1.0");
      s.expect("DATA", 503, "5.5.1");
      s.expect("NOOP", 250, "2.0.0");
    }
    assertNothingAccepted(server);
  }

  @Test
  void mailWithoutFromIs501() throws Exception {
        try (CheckedSmtp s = CheckedSmtp.inMemory(lenient)) {
      s.ehlo("client.example");
      s.expect("MAIL", 501, "5.5.4");
      s.expect("MAIL <sender@example.org>", 501, "5.5.4");
      s.expect("MAIL TO:<sender@example.org>", 501, "5.5.4");
      s.expect("MAIL FROM", 501, "5.5.4");
      s.expect("RCPT TO:<alice@test.example>", 503, "5.5.1");
      s.expect("MAIL FROM:<sender@example.org>", 250, "2.1.0");
    }
    assertNothingAccepted(lenient);
  }

  @Test
  void badSenderSyntaxIs501WithBadSenderCode() throws Exception {
        try (CheckedSmtp s = CheckedSmtp.inMemory(lenient)) {
      s.ehlo("client.example");
      for (String bad : List.of("<no-domain>", "<a@b..example>", "<sender@example.org", "<a b@example.org>",
          "<@example.org>", "<sender@-bad.example>")) {
        s.expect("MAIL FROM:" + bad, 501, "5.1.7");
      }
      s.expect("RCPT TO:<alice@test.example>", 503, "5.5.1");
    }
    assertNothingAccepted(lenient);
  }

  @Test
  void badRecipientSyntaxIs501WithBadDestinationCode() throws Exception {
        try (CheckedSmtp s = CheckedSmtp.inMemory(lenient)) {
      s.ehlo("client.example");
      s.expect("MAIL FROM:<sender@example.org>", 250, "2.1.0");
      for (String bad : List.of("<alice@>", "<>", "<@test.example>", "<alice@test.example", "<al ice@test.example>")) {
        s.expect("RCPT TO:" + bad, 501, "5.1.3");
      }
      s.expect("RCPT <alice@test.example>", 501, "5.5.4");
      // No recipient was accepted.
      s.expect("DATA", 503, "5.5.1");
    }
    assertNothingAccepted(lenient);
  }

  @Test
  void unknownMailParameterIs555() throws Exception {
        try (CheckedSmtp s = CheckedSmtp.inMemory(server)) {
      s.ehlo("client.example");
      s.expect("MAIL FROM:<sender@example.org> XFOO=bar", 555, "5.5.4");
      s.expect("MAIL FROM:<sender@example.org> XFLAG", 555, "5.5.4");
      // Not in a transaction: a valid MAIL is now accepted.
      s.expect("MAIL FROM:<sender@example.org>", 250, "2.1.0");
    }
    assertNothingAccepted(server);
  }

  @Test
  void unknownRcptParameterIs555() throws Exception {
        try (CheckedSmtp s = CheckedSmtp.inMemory(server)) {
      s.ehlo("client.example");
      s.expect("MAIL FROM:<sender@example.org>", 250, "2.1.0");
      s.expect("RCPT TO:<alice@test.example> XBAR=1", 555, "5.5.4");
      s.expect("DATA", 503, "5.5.1");
    }
    assertNothingAccepted(server);
  }

  @Test
  void mailParametersAfterHeloAre555() throws Exception {
        try (CheckedSmtp s = CheckedSmtp.inMemory(server)) {
      s.helo("client.example");
      s.expect("MAIL FROM:<sender@example.org> SIZE=100", 555, "5.5.4");
      s.expect("MAIL FROM:<sender@example.org> BODY=8BITMIME", 555, "5.5.4");
      s.expect("MAIL FROM:<sender@example.org>", 250, "2.1.0");
    }
    assertNothingAccepted(server);
  }

  @Test
  void sizeOverLimitIs552() throws Exception {
        try (CheckedSmtp s = CheckedSmtp.inMemory(limited)) {
      s.ehlo("client.example");
      s.expect("MAIL FROM:<sender@example.org> SIZE=1025", 552, "5.3.4");
      s.expect("MAIL FROM:<sender@example.org> SIZE=999999999999", 552, "5.3.4");
      s.expect("RCPT TO:<alice@test.example>", 503, "5.5.1");
      s.expect("MAIL FROM:<sender@example.org> SIZE=1024", 250, "2.1.0");
    }
    assertNothingAccepted(limited);
  }

  /** RFC 1870: size-value ::= 1*20DIGIT, so a 20-digit SIZE is valid syntax and simply too big. */
  @Test
  void twentyDigitSizeIs552NotSyntaxError() throws Exception {
        try (CheckedSmtp s = CheckedSmtp.inMemory(limited)) {
      s.ehlo("client.example");
      s.expect("MAIL FROM:<sender@example.org> SIZE=99999999999999999999", 552, "5.3.4");
    }
    assertNothingAccepted(limited);
  }

  @Test
  void declaredSizeOverTheLimitIsRefusedAtMail() throws Exception {
    try (PosternTestServer server = PosternTestServer.create().option("message_size_limit", "10K").startSessions();
         CheckedSmtp c = CheckedSmtp.inMemory(server)) {
      c.ehlo("client.example");
      c.expect("MAIL FROM:<sender@example.org> SIZE=20480", 552, "5.3.4");
      c.expect("MAIL FROM:<sender@example.org> SIZE=1000", 250, null);
    }
  }

  @Test
  void nonNumericSizeIs501() throws Exception {
        try (CheckedSmtp s = CheckedSmtp.inMemory(server)) {
      s.ehlo("client.example");
      s.expect("MAIL FROM:<sender@example.org> SIZE=abc", 501, "5.5.4");
      s.expect("MAIL FROM:<sender@example.org> SIZE", 501, "5.5.4");
      s.expect("MAIL FROM:<sender@example.org> SIZE=-1", 501, "5.5.4");
    }
    assertNothingAccepted(server);
  }

  @Test
  void bodyBinaryMimeIsRefused() throws Exception {
        try (CheckedSmtp s = CheckedSmtp.inMemory(server)) {
      s.ehlo("client.example");
      s.expect("MAIL FROM:<sender@example.org> BODY=BINARYMIME", 501, "5.5.4");
      s.expect("MAIL FROM:<sender@example.org> BODY=BOGUS", 501, "5.5.4");
      s.expect("RCPT TO:<alice@test.example>", 503, "5.5.1");
    }
    assertNothingAccepted(server);
  }

  @Test
  void rsetClearsTheTransaction() throws Exception {
        try (CheckedSmtp s = CheckedSmtp.inMemory(server)) {
      s.ehlo("client.example");
      s.expect("MAIL FROM:<sender@example.org>", 250, "2.1.0");
      s.expect("RCPT TO:<alice@test.example>", 250, "2.1.5");
      s.expect("RSET", 250, "2.0.0");
      s.expect("RCPT TO:<alice@test.example>", 503, "5.5.1");
      s.expect("DATA", 503, "5.5.1");
      // RSET keeps the EHLO state: a new transaction needs no new greeting.
      s.expect("MAIL FROM:<other@example.org>", 250, "2.1.0");
    }
    assertNothingAccepted(server);
  }

  @Test
  void rsetWithArgumentIs501() throws Exception {
    try (CheckedSmtp s = CheckedSmtp.inMemory(server)) {
      s.ehlo("client.example");
      s.expect("MAIL FROM:<sender@example.org>", 250, "2.1.0");
      s.expect("RSET now", 501, "5.5.4");
      // A refused RSET did not reset.
      s.expect("RCPT TO:<alice@test.example>", 250, "2.1.5");
    }
  }

  @Test
  void noopIs250() throws Exception {
    try (CheckedSmtp s = CheckedSmtp.inMemory(server)) {
      s.expect("NOOP", 250, "2.0.0");
      s.expect("NOOP ignored argument", 250, "2.0.0");
      // RSET is allowed at any time, even before HELO/EHLO.
      s.expect("RSET", 250, "2.0.0");
    }
  }

  @Test
  void quitIs221ThenClose() throws Exception {
    try (CheckedSmtp s = CheckedSmtp.inMemory(server)) {
      s.ehlo("client.example");
      s.expect("QUIT", 221, "2.0.0");
      s.assertClosed();
    }
  }

  @Test
  void helpIs214() throws Exception {
    try (CheckedSmtp s = CheckedSmtp.inMemory(server)) {
      Reply r = s.cmd("HELP");
      assertEquals(214, r.code(), r.toString());
      assertEquals("2.0.0", r.enhanced(), r.toString());
      assertTrue(r.text().contains("EHLO"), r.toString());
      s.expect("NOOP", 250, "2.0.0");
    }
  }

  @Test
  void vrfyIs252ByDefault() throws Exception {
    try (CheckedSmtp s = CheckedSmtp.inMemory(server)) {
      s.ehlo("client.example");
      s.expect("VRFY alice", 252, "2.1.5");
      // Unknown users get the same answer: VRFY tells a harvester nothing.
      s.expect("VRFY <nobody@test.example>", 252, "2.1.5");
    }
  }

  @Test
  void vrfyWithoutArgumentIs501() throws Exception {
    try (CheckedSmtp s = CheckedSmtp.inMemory(server)) {
      s.ehlo("client.example");
      s.expect("VRFY", 501, "5.5.4");
    }
  }

  @Test
  void expnPostmasterFromLocalhost() throws Exception {
    try (CheckedSmtp s = CheckedSmtp.inMemory(server)) {
      s.ehlo("client.example");
      Reply r = s.expect("EXPN postmaster", 250, "2.1.5");
      assertEquals(List.of("2.1.5 <admin@mx.test.example>"), r.lines());
    }
  }

  @Test
  void expnListsOneMemberPerLine() throws Exception {
    try (CheckedSmtp s = CheckedSmtp.inMemory(server)) {
      s.ehlo("client.example");
      Reply r = s.expect("EXPN staff", 250, "2.1.5");
      assertEquals(List.of("2.1.5 <alice@mx.test.example>", "2.1.5 <bob@mx.test.example>"), r.lines());
    }
  }

  /** The expn ACL refuses: 550 5.7.1 and no member is revealed. */
  @Test
  void expnRefusedByAclIs550() throws Exception {
    try (PosternTestServer restricted = PosternTestServer.create().acl(RESTRICTED_EXPN_ACL).startSessions();
         CheckedSmtp s = CheckedSmtp.inMemoryFrom("127.0.0.2", restricted)) {
      s.ehlo("client.example");
      Reply r = s.expect("EXPN postmaster", 550, "5.7.1");
      assertFalse(r.text().contains("admin"), "a refused EXPN must not leak members: " + r);
      s.expect("EXPN nobody", 550, "5.7.1");
    }
  }

  /** The shipped expn ACL admits every loopback address (127.0.0.0/8 and ::1), not only relay hosts. */
  @Test
  void expnFromOtherLoopbackAddressIsAllowedByShippedPolicy() throws Exception {
    try (CheckedSmtp s = CheckedSmtp.inMemoryFrom("127.0.0.2", server)) {
      s.ehlo("client.example");
      Reply r = s.expect("EXPN postmaster", 250, "2.1.5");
      assertTrue(r.text().contains("<admin@mx.test.example>"), r.toString());
    }
  }

  @Test
  void expnOfUnknownNameIs550() throws Exception {
    try (CheckedSmtp s = CheckedSmtp.inMemory(server)) {
      s.ehlo("client.example");
      s.expect("EXPN nobody", 550, "5.1.1");
    }
  }

  @Test
  void etrnFromRelayHostWithNothingQueuedIs251() throws Exception {
    try (CheckedSmtp s = CheckedSmtp.inMemory(server)) {
      s.ehlo("client.example");
      s.expect("ETRN example.org", 251, "2.0.0");
    }
  }

  @Test
  void etrnWithoutArgumentIs501() throws Exception {
    try (CheckedSmtp s = CheckedSmtp.inMemory(server)) {
      s.ehlo("client.example");
      s.expect("ETRN", 501, "5.5.4");
    }
  }

  @Test
  void etrnFromOtherHostIs458() throws Exception {
    try (CheckedSmtp s = CheckedSmtp.inMemoryFrom("127.0.0.2", server)) {
      s.ehlo("client.example");
      s.expect("ETRN example.org", 458, "4.7.1");
    }
  }

  @Test
  void turnIs502() throws Exception {
    try (CheckedSmtp s = CheckedSmtp.inMemory(server)) {
      s.ehlo("client.example");
      s.expect("TURN", 502, "5.5.1");
      s.expect("NOOP", 250, "2.0.0");
    }
  }

  @Test
  void unknownCommandIs500() throws Exception {
    try (CheckedSmtp s = CheckedSmtp.inMemory(server)) {
      s.expect("FROB nicate", 500, "5.5.1");
      s.expect("NOOP", 250, "2.0.0");
    }
  }

  @Test
  void tooManyUnknownCommandsCloseWith421() throws Exception {
    try (CheckedSmtp s = CheckedSmtp.inMemory(server)) {
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
        try (CheckedSmtp s = CheckedSmtp.inMemory(server)) {
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
    assertNothingAccepted(server);
  }

  @Test
  void errorLimitsAreConfigurable() throws Exception {
    try (CheckedSmtp s = CheckedSmtp.inMemory(lenient)) {
      s.ehlo("client.example");
      for (int i = 0; i < 6; i++) {
        s.expect("FOO" + i, 500, "5.5.1");
        s.expect("MAIL", 501, "5.5.4");
      }
      s.expect("NOOP", 250, "2.0.0");
    }
  }

  @Test
  void commandLineOf512OctetsIncludingCrlfIsAccepted() throws Exception {
    try (CheckedSmtp s = CheckedSmtp.inMemory(server)) {
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
    try (CheckedSmtp s = CheckedSmtp.inMemory(server)) {
      s.ehlo("client.example");
      String line = "NOOP " + "x".repeat(506);
      assertEquals(511, line.length());
      s.expect(line, 500, "5.5.2");
      s.expect("NOOP", 250, "2.0.0");
    }
  }

  @Test
  void hugeCommandLineIsTooLongAndNotExecuted() throws Exception {
        try (CheckedSmtp s = CheckedSmtp.inMemory(server)) {
      s.ehlo("client.example");
      s.expect("NOOP " + "x".repeat(100 * 1024), 500, "5.5.2");
      s.expect("NOOP", 250, "2.0.0");
      s.expect("MAIL FROM:<sender@example.org> " + " ".repeat(100 * 1024), 500, "5.5.2");
      s.expect("RCPT TO:<alice@test.example>", 503, "5.5.1");
    }
    assertNothingAccepted(server);
  }

  @Test
  void nulInCommandIs500() throws Exception {
        try (CheckedSmtp s = CheckedSmtp.inMemory(server)) {
      s.ehlo("client.example");
      s.client.send("MAIL FROM:<sender@example.org>\0\r\n");
      assertReply(s.read(), 500, "5.5.2");
      s.expect("RCPT TO:<alice@test.example>", 503, "5.5.1");
    }
    assertNothingAccepted(server);
  }

  @Test
  void bareCrInCommandIs500() throws Exception {
        try (CheckedSmtp s = CheckedSmtp.inMemory(server)) {
      s.ehlo("client.example");
      s.client.send("MAIL FROM:<sender@example.org>\rRCPT TO:<alice@test.example>\r\n");
      assertReply(s.read(), 500, "5.5.2");
      s.expect("RCPT TO:<alice@test.example>", 503, "5.5.1");
    }
    assertNothingAccepted(server);
  }

  @Test
  void bareLfEndingACommandIs500AndNotExecuted() throws Exception {
        try (CheckedSmtp s = CheckedSmtp.inMemory(server)) {
      s.ehlo("client.example");
      s.client.send("MAIL FROM:<a@b.example>\n");
      assertReply(s.read(), 500, "5.5.2");
      s.expect("RCPT TO:<alice@test.example>", 503, "5.5.1");
    }
    assertNothingAccepted(server);
  }

  @Test
  void nonRelayHostOnlyRefusedRecipients() throws Exception {
        try (CheckedSmtp s = CheckedSmtp.inMemoryFrom("127.0.0.2", server)) {
      s.ehlo("client.example");
      s.expect("MAIL FROM:<sender@example.org>", 250, "2.1.0");
      s.expect("RCPT TO:<x@remote.example>", 550, "5.7.1");
      s.expect("RCPT TO:<x@test.example.evil>", 550, "5.7.1");
      s.expect("DATA", 503, "5.5.1");
    }
    assertNothingAccepted(server);
  }

  @Test
  void unknownLocalUserIs550FromAnyHost() throws Exception {
        try (CheckedSmtp s = CheckedSmtp.inMemory(server)) {
      s.ehlo("client.example");
      s.expect("MAIL FROM:<sender@example.org>", 250, "2.1.0");
      s.expect("RCPT TO:<nobody@test.example>", 550, "5.1.1");
      s.expect("RCPT TO:<nobody@localhost>", 550, "5.1.1");
      s.expect("DATA", 503, "5.5.1");
    }
    assertNothingAccepted(server);
  }
}
