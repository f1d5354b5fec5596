package org.postern.policy;

import org.junit.jupiter.api.Test;
import org.postern.config.ConfigException;
import org.postern.config.ConfigLoader;
import org.postern.spool.Envelope;
import org.postern.spool.Spool;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The ACL modifiers add_header, delay and control, end to end over real sockets and real spool files. */
class AclModifiersTest {
  private static final String TAIL = "acl_check_expn:\n  - deny:\nacl_check_etrn:\n  - deny:\n";

  private static PosternTestServer server(String acl, String... options) throws Exception {
    PosternTestServer s = PosternTestServer.create().acl(acl + TAIL);
    for (int k = 0; k < options.length; k += 2) {
      s.option(options[k], options[k + 1]);
    }
    return s.start();
  }

  private static SmtpTestClient.Reply send(SmtpTestClient c, String to, String message) throws Exception {
    assertEquals(250, c.command("MAIL FROM:<sender@example.org>").code());
    assertEquals(250, c.command("RCPT TO:<" + to + ">").code());
    assertEquals(354, c.command("DATA").code());
    return c.command(message + "\r\n.");
  }

  private static SmtpTestClient greeted(PosternTestServer s) throws Exception {
    SmtpTestClient c = SmtpTestClient.connect(s.port());
    assertEquals(220, c.reply().code());
    assertEquals(250, c.command("EHLO client.example").code());
    return c;
  }

  private static String read(Path p) throws Exception {
    return Files.readString(p, StandardCharsets.ISO_8859_1);
  }

  /** The header section of a delivered message, as lines. */
  private static List<String> headerLines(String message) {
    return message.substring(0, message.indexOf("\r\n\r\n")).lines().toList();
  }

  @Test
  void headersFromRcptAndDataStagesGoRightAfterReceivedAndOnlyIntoAcceptedMessages() throws Exception {
    String acl = "acl_check_rcpt:\n"
        + "  - warn:   { add_header: \"X-Rcpt-Check: $local_part from $sender_host_address\" }\n"
        + "  - accept: { domains: +local_domains }\n"
        + "acl_check_data:\n"
        + "  - warn:   { add_header: [\"X-Data-Check: size $message_size\", \"X-Two: a\\n  folded\"] }\n"
        + "  - deny:   { condition: \"${if eq{$local_part}{bob}}\", add_header: \"X-Never: denied\" }\n"
        + "  - accept:\n";
    try (PosternTestServer s = server(acl, "acl_smtp_data", "acl_check_data");
         SmtpTestClient c = greeted(s)) {
      assertEquals(250, send(c, "alice@test.example", "Subject: hello\r\n\r\nbody").code());
      String message = read(s.awaitMailbox("alice", 1, 5000).get(0));
      List<String> headers = headerLines(message);
      assertTrue(headers.get(0).startsWith("Return-Path: "), message);
      int received = 1;
      while (headers.get(received + 1).startsWith("\t") || headers.get(received + 1).startsWith(" ")) {
        received++;
      }
      assertTrue(headers.get(1).startsWith("Received: "), message);
      assertEquals("X-Rcpt-Check: alice from 127.0.0.1", headers.get(received + 1), message);
      assertTrue(headers.get(received + 2).startsWith("X-Data-Check: size "), message);
      assertEquals("X-Two: a", headers.get(received + 3), message);
      assertEquals("\tfolded", headers.get(received + 4), message);
      assertEquals("Subject: hello", headers.get(received + 5), message);
      assertFalse(message.contains("X-Never"), message);
      assertTrue(message.endsWith("\r\n\r\nbody\r\n"), message);
    }
  }

  @Test
  void dataStageHeaderIsInsertedIntoASpilledMessageWithoutChangingItsBody() throws Exception {
    String acl = "acl_check_rcpt:\n  - accept: { domains: +local_domains }\n"
        + "acl_check_data:\n  - accept: { add_header: \"X-Big: yes\" }\n";
    StringBuilder body = new StringBuilder();
    for (int k = 0; body.length() < 700_000; k++) {
      body.append("line ").append(k).append(" of a message larger than the in-memory threshold\r\n");
    }
    try (PosternTestServer s = server(acl, "acl_smtp_data", "acl_check_data");
         SmtpTestClient c = greeted(s)) {
      assertEquals(250, send(c, "alice@test.example", "Subject: big\r\n\r\n" + body.substring(0, body.length() - 2)).code());
      String message = read(s.awaitMailbox("alice", 1, 10000).get(0));
      assertTrue(headerLines(message).contains("X-Big: yes"), message.substring(0, 400));
      assertTrue(message.endsWith("\r\n\r\n" + body), "body changed");
      assertEquals(1, count(message, "X-Big: yes"));
    }
  }

  private static int count(String text, String what) {
    int n = 0;
    for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + 1)) {
      n++;
    }
    return n;
  }

  @Test
  void delayHoldsTheReplyWithoutHoldingOtherSessions() throws Exception {
    String acl = "acl_check_rcpt:\n"
        + "  - deny:   { condition: \"${if eq{$local_part}{slow}}\", delay: 1500ms, message: slowed }\n"
        + "  - accept: { domains: +local_domains }\n";
    try (PosternTestServer s = server(acl); SmtpTestClient slow = greeted(s); SmtpTestClient fast = greeted(s)) {
      assertEquals(250, slow.command("MAIL FROM:<a@example.org>").code());
      long start = System.nanoTime();
      slow.send("RCPT TO:<slow@test.example>\r\n");
      // While the first session waits, another one is served.
      assertEquals(250, fast.command("MAIL FROM:<b@example.org>").code());
      assertEquals(250, fast.command("RCPT TO:<alice@test.example>").code());
      long fastDone = System.nanoTime() - start;
      SmtpTestClient.Reply r = slow.reply();
      long elapsed = System.nanoTime() - start;
      assertEquals(550, r.code(), r.toString());
      assertEquals("slowed", r.text().replaceFirst("^5\\.\\d+\\.\\d+ ", ""), r.toString());
      assertTrue(elapsed >= 1_400_000_000L, "reply came after " + elapsed / 1_000_000 + " ms");
      assertTrue(fastDone < elapsed, "the other session waited too");
    }
  }

  @Test
  void noPipeliningFromTheConnectAclRemovesTheExtension() throws Exception {
    String acl = "acl_check_connect:\n  - accept: { hosts: 127.0.0.1, control: no_pipelining }\n"
        + "acl_check_rcpt:\n  - accept: { domains: +local_domains }\n";
    try (PosternTestServer s = server(acl, "acl_smtp_connect", "acl_check_connect");
         SmtpTestClient c = SmtpTestClient.connect(s.port())) {
      assertEquals(220, c.reply().code());
      SmtpTestClient.Reply ehlo = c.command("EHLO client.example");
      assertEquals(250, ehlo.code());
      assertFalse(ehlo.lines().stream().anyMatch(l -> l.contains("PIPELINING")), ehlo.toString());
      assertTrue(ehlo.lines().stream().anyMatch(l -> l.contains("8BITMIME")), ehlo.toString());
      // Without PIPELINING on offer, a pipelined group is a synchronization error.
      c.send("MAIL FROM:<a@example.org>\r\nRCPT TO:<alice@test.example>\r\n");
      assertEquals(554, c.reply().code());
    }
  }

  @Test
  void submissionAddsMissingHeadersOnlyForTheMessagesItControls() throws Exception {
    String acl = "acl_check_rcpt:\n"
        + "  - accept: { domains: +local_domains, condition: \"${if eq{$sender_address}{user@example.org}}\","
        + " control: submission/domain=example.org }\n"
        + "  - accept: { domains: +local_domains }\n";
    try (PosternTestServer s = server(acl); SmtpTestClient c = greeted(s)) {
      assertEquals(250, c.command("MAIL FROM:<user@example.org>").code());
      assertEquals(250, c.command("RCPT TO:<alice@test.example>").code());
      assertEquals(354, c.command("DATA").code());
      assertEquals(250, c.command("Subject: no ids\r\n\r\nbody\r\n.").code());
      // A second message from another sender is not a submission: left as it is.
      assertEquals(250, send(c, "bob@test.example", "Subject: relayed\r\n\r\nbody").code());

      List<String> fixed = headerLines(read(s.awaitMailbox("alice", 1, 5000).get(0)));
      assertTrue(fixed.stream().anyMatch(h -> h.matches("Message-ID: <E[^@]+@example\\.org>")), fixed.toString());
      assertTrue(fixed.stream().anyMatch(h -> h.startsWith("Date: ")), fixed.toString());
      assertTrue(fixed.contains("From: user@example.org"), fixed.toString());
      List<String> untouched = headerLines(read(s.awaitMailbox("bob", 1, 5000).get(0)));
      assertFalse(untouched.stream().anyMatch(h -> h.startsWith("Message-ID:") || h.startsWith("Date:")
          || h.startsWith("From:")), untouched.toString());
    }
  }

  @Test
  void submissionKeepsHeadersTheClientSent() throws Exception {
    String acl = "acl_check_rcpt:\n  - accept: { domains: +local_domains, control: submission }\n";
    try (PosternTestServer s = server(acl); SmtpTestClient c = greeted(s)) {
      assertEquals(250, send(c, "alice@test.example",
          "From: Someone <x@example.org>\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <given@x>\r\n\r\nb").code());
      String message = read(s.awaitMailbox("alice", 1, 5000).get(0));
      assertEquals(1, count(message, "Message-ID:"), message);
      assertEquals(1, count(message, "\r\nDate:"), message);
      assertEquals(1, count(message, "\r\nFrom:"), message);
    }
  }

  @Test
  void queueKeepsTheMessageForTheNextQueueRunAndFreezeKeepsItFrozen() throws Exception {
    String acl = "acl_check_rcpt:\n"
        + "  - accept: { condition: \"${if eq{$local_part}{alice}}\", control: queue }\n"
        + "  - accept: { condition: \"${if eq{$local_part}{bob}}\", control: freeze/no_tell }\n";
    try (PosternTestServer s = server(acl); SmtpTestClient c = greeted(s)) {
      SmtpTestClient.Reply queued = send(c, "alice@test.example", "Subject: q\r\n\r\nb");
      SmtpTestClient.Reply frozen = send(c, "bob@test.example", "Subject: f\r\n\r\nb");
      assertEquals(250, queued.code());
      assertEquals(250, frozen.code());
      Spool spool = new Spool(s.root().resolve("spool"));
      String queuedId = queued.text().replaceAll(".*id=", "");
      String frozenId = frozen.text().replaceAll(".*id=", "");
      Thread.sleep(500);
      assertTrue(Files.exists(spool.envelopeFile(queuedId)), "queued message must stay in the spool");
      assertTrue(Files.exists(spool.dataFile(queuedId)));
      Envelope held = spool.readEnvelope(frozenId);
      assertTrue(held.frozen(), held.toString());
      assertFalse(spool.readEnvelope(queuedId).frozen());
      assertTrue(s.mailbox("alice").isEmpty());
      assertTrue(s.mailbox("bob").isEmpty());
      String log = read(Path.of(System.getProperty("postern.log.dir", "target/test-logs"), "mainlog"));
      assertTrue(log.contains(frozenId + " frozen by ACL"), frozenId);
    }
  }

  @Test
  void badModifiersAreConfigurationErrorsWithTheirLine() throws Exception {
    String[][] cases = {
        {"  - accept: { control: no_such_thing }\n", "unknown control"},
        {"  - accept: { control: freeze/forever }\n", "unknown option"},
        {"  - warn: { add_header: \"not a header\" }\n", "not a header line"},
        {"  - warn: { add_header: \"X-Var: $no_such_variable\" }\n", "no_such_variable"},
        {"  - deny: { delay: soon }\n", "delay"},
    };
    for (String[] c : cases) {
      PosternTestServer s = PosternTestServer.create().acl("acl_check_rcpt:\n  - accept: { hosts: 127.0.0.1 }\n"
          + c[0] + TAIL);
      try {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(s.writeConfig()), c[0]);
        assertTrue(e.getMessage().contains(c[1]), e.getMessage());
        assertEquals(3, e.line(), e.getMessage());
        assertTrue(e.getMessage().contains("acl.yaml"), e.getMessage());
      } finally {
        s.close();
      }
    }
  }
}
