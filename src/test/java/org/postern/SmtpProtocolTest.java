package org.postern;

import io.vertx.core.Handler;
import io.vertx.core.eventbus.DeliveryContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postern.bus.Addresses;
import org.postern.testing.Await;
import org.postern.testing.CheckedSmtp;
import org.postern.testing.MainLogFile;
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
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.testing.CheckedSmtp.assertReply;
import static org.postern.testing.CheckedSmtp.assertWellFormed;

/**
 * SMTP protocol conformance of a real Postern over real sockets, where the socket or the delivery
 * matters: RFC 2920 (PIPELINING and synchronization), message content and RFC 6152 (8BITMIME)
 * through to the mailbox, relay policy and recipient limits with what was delivered. The protocol
 * state that needs no socket (sequence, syntax, parameters, limits, ACL verdicts) is tested in
 * memory by {@link SmtpSessionStateTest}.
 *
 * <p>Every reply read by these tests goes through {@link CheckedSmtp#assertWellFormed}.
 *
 * <p>Refusals are backed by proof that nothing was accepted: the spool ends up empty and no
 * mailbox received anything ({@link Snapshot#assertNothingAccepted()}).
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class SmtpProtocolTest {
  /** The shipped configuration. */
  private static PosternTestServer server;
  /** message_size_limit 1K, recipients_max 3, one more user (carol). */
  private static PosternTestServer limited;

  @BeforeAll
  static void startServers() throws Exception {
    server = PosternTestServer.create().start();
    limited = PosternTestServer.create()
        .option("message_size_limit", "1K")
        .option("recipients_max", "3")
        .users("admin:", "alice:{PLAIN}alice-secret", "bob:{PLAIN}bob-secret", "carol:")
        .start();
  }

  @AfterAll
  static void stopServers() throws Exception {
    PosternTestServer.closeAll(server, limited);
  }

  // ---------------------------------------------------------------------------------------------
  // Commands and addresses, delivered

  @Test
  void commandVerbsAreCaseInsensitive() throws Exception {
    Snapshot snap = Snapshot.of(server);
    try (CheckedSmtp s = CheckedSmtp.connect(server)) {
      s.ehlo("client.example", "ehlo");
      s.expect("mail from:<sender@example.org>", 250, "2.1.0");
      s.expect("rcpt to:<alice@test.example>", 250, "2.1.5");
      s.expect("data", 354, null);
      s.message("Subject: lower case\r\n\r\nhi\r\n");
      s.quit();
    }
    snap.awaitDelivered("alice");
  }

  /** RFC 5321 2.4: domain names are case-insensitive. */
  @Test
  void recipientDomainIsCaseInsensitive() throws Exception {
    Snapshot snap = Snapshot.of(server);
    try (CheckedSmtp s = CheckedSmtp.connectFrom("127.0.0.2", server)) {
      s.ehlo("client.example");
      s.expect("MAIL FROM:<sender@example.org>", 250, "2.1.0");
      s.expect("RCPT TO:<alice@TEST.Example>", 250, "2.1.5");
      s.expect("DATA", 354, null);
      s.message("Subject: case\r\n\r\nx\r\n");
    }
    snap.awaitDelivered("alice");
  }

  // ---------------------------------------------------------------------------------------------
  // Sequence errors (503 5.5.1), delivered

  @Test
  void secondMailInTransactionIs503() throws Exception {
    Snapshot snap = Snapshot.of(server);
    try (CheckedSmtp s = CheckedSmtp.connect(server)) {
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
  // MAIL / RCPT syntax and parameters, delivered

  @Test
  void contentOverSizeLimitIs552AndNotDelivered() throws Exception {
    Snapshot snap = Snapshot.of(limited);
    MainLogFile log = MainLogFile.ofTestJvm().fromNow();
    try (CheckedSmtp s = CheckedSmtp.connect(limited)) {
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
      log.await(5000, "rejected after DATA: ", ((SmtpTestClient) s.client).hostForLog(),
          "F=<sender@example.org>: message too big: read=");
    }
    snap.assertNothingAccepted();
  }

  @Test
  void body8BitMimeIsAcceptedAndPreserved() throws Exception {
    Snapshot snap = Snapshot.of(server);
    byte[] eight = "caf\u00e9 \u00fcber na\u00efve".getBytes(StandardCharsets.UTF_8);
    try (CheckedSmtp s = CheckedSmtp.connect(server)) {
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
  void nullSenderIsAccepted() throws Exception {
    Snapshot snap = Snapshot.of(server);
    try (CheckedSmtp s = CheckedSmtp.connect(server)) {
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
    try (CheckedSmtp s = CheckedSmtp.connect(server)) {
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
    try (CheckedSmtp s = CheckedSmtp.connectFrom("127.0.0.2", server)) {
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
    try (CheckedSmtp s = CheckedSmtp.connect(server)) {
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
    try (CheckedSmtp s = CheckedSmtp.connectFrom("127.0.0.2", server)) {
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
    try (CheckedSmtp s = CheckedSmtp.connectFrom("127.0.0.2", server)) {
      s.ehlo("client.example");
      s.expect("MAIL FROM:<sender@example.org>", 250, "2.1.0");
      s.expect("RCPT TO:<PostMaster>", 250, "2.1.5");
      s.expect("DATA", 354, null);
      s.message("Subject: to PostMaster\r\n\r\nx\r\n");
    }
    snap.awaitDelivered("admin");
  }

  // ---------------------------------------------------------------------------------------------
  // Relay policy and recipient limits

  @Test
  void relayHostMayRelayAndMessageStaysQueued() throws Exception {
    MainLogFile log = MainLogFile.ofTestJvm().fromNow();
    try (PosternTestServer relay = PosternTestServer.create().start()) {
      String id;
      try (CheckedSmtp s = CheckedSmtp.connect(relay)) {
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
      // remote.example does not resolve: the delivery is deferred and the message stays in the spool.
      log.await(10000, id + " == x@remote.example");
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
    try (CheckedSmtp s = CheckedSmtp.connectFrom("127.0.0.2", server)) {
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
  void recipientsMaxIs452AndDataStillDelivers() throws Exception {
    Snapshot snap = Snapshot.of(limited);
    try (CheckedSmtp s = CheckedSmtp.connect(limited)) {
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
    try (CheckedSmtp s = CheckedSmtp.connect(server)) {
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
    try (CheckedSmtp s = CheckedSmtp.connect(server)) {
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
    try (CheckedSmtp s = CheckedSmtp.connect(server)) {
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
    try (CheckedSmtp s = CheckedSmtp.connect(server)) {
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
    try (CheckedSmtp s = CheckedSmtp.connect(server)) {
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
    try (CheckedSmtp s = CheckedSmtp.connect(server)) {
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
    MainLogFile log = MainLogFile.ofTestJvm().fromNow();
    try (CheckedSmtp s = CheckedSmtp.connect(server)) {
      s.ehlo("client.example");
      s.expect("MAIL FROM:<sender@example.org>", 250, "2.1.0");
      s.expect("RCPT TO:<alice@test.example>", 250, "2.1.5");
      s.client.send("DATA\r\nSubject: x\r\n\r\nsmuggled\r\n.\r\n");
      assertReply(s.read(), 554, "5.5.0");
      s.assertClosed();
      // The 354 was never sent: the content was not read as a message, and nothing was spooled.
      log.await(5000, "SMTP protocol synchronization error (next input sent too soon",
          ((SmtpTestClient) s.client).hostForLog());
    }
    snap.assertNothingAccepted();
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

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
      Await.holdsWithin(5000, () -> s.spoolFiles().isEmpty());
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
