package org.postern.queue;

import io.vertx.core.eventbus.DeliveryContext;
import io.vertx.core.Handler;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.postern.bus.Addresses;
import org.postern.bus.EnqueueRequest;
import org.postern.bus.LocalDeliveryReply;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient;
import org.postern.testing.TinyFileSystem;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.postern.queue.RelayTesting.assertSpoolEmpty;
import static org.postern.queue.RelayTesting.awaitLog;
import static org.postern.queue.RelayTesting.mainlog;
import static org.postern.queue.RelayTesting.states;
import static org.postern.bus.LocalDeliveryReply.Outcome.DELIVERED;
import static org.postern.bus.LocalDeliveryReply.Outcome.NOT_ELIGIBLE;
import static org.postern.bus.LocalDeliveryReply.Outcome.PARTIAL;

/**
 * {@code local_delivery_before_ack}: a small message for local mailboxes only is in its maildirs
 * when the client sees the 250, and never in the spool; a maildir that cannot be written leaves its
 * recipient to the queue without a second copy for the others; everything else takes the spool as
 * before. Which path a message took is read off the bus: the listener sends the queue an
 * {@link EnqueueRequest} for a message only once it is committed to the spool.
 */
class DeliveryBeforeAckTest {
  private static final String ACL = """
      acl_check_rcpt:
        - accept: { condition: "${if eq{$local_part}{queued}}", control: queue }
        - accept: { condition: "${if eq{$local_part}{frozen}}", control: freeze }
        - accept: {}
      acl_check_expn:
        - deny: {}
      acl_check_etrn:
        - deny: {}
      """;

  private static PosternTestServer server() throws Exception {
    return PosternTestServer.create().acl(ACL)
        .users("admin:", "alice:", "bob:", "queued:", "frozen:")
        .aliases("fwd: someone@remote.example", "pair: alice, bob", "postmaster: admin");
  }

  /**
   * What the listener and the queue said on the bus: the ids of the messages committed to the
   * spool (told to the queue), and the queue's answers to the listener's offers, in order.
   */
  private record Traffic(Set<String> spooled, List<LocalDeliveryReply.Outcome> answers) {
  }

  private static Traffic tap(PosternTestServer server) {
    Traffic t = new Traffic(ConcurrentHashMap.newKeySet(), new CopyOnWriteArrayList<>());
    Handler<DeliveryContext<Object>> tap = ctx -> {
      if (ctx.message().address().equals(Addresses.QUEUE_ENQUEUE) && ctx.body() instanceof EnqueueRequest r) {
        t.spooled().add(r.id());
      } else if (ctx.body() instanceof LocalDeliveryReply r) {
        t.answers().add(r.outcome());
      }
      ctx.next();
    };
    server.vertx().eventBus().addOutboundInterceptor(tap);
    return t;
  }

  @Test
  void aMessageForLocalMailboxesIsInThemWhenThe250ComesAndNeverInTheSpool() throws Exception {
    try (PosternTestServer server = server().start()) {
      Traffic bus = tap(server);
      String id = server.accept("<sender@example.org>", "alice@test.example", "bob@test.example");
      // No waiting: the 250 itself says the files are in new/ (fsynced, renamed, new/ synced).
      assertEquals(1, server.mailbox("alice").size());
      assertEquals(1, server.mailbox("bob").size());
      assertEquals(List.of(), server.spoolFiles());
      awaitLog(id, " Completed");
      List<String> lines = mainlog(id).stream().map(l -> l.substring(l.indexOf(id) + id.length() + 1)).toList();
      assertEquals(4, lines.size(), lines.toString());
      assertTrue(lines.get(0).startsWith("<= sender@example.org H="), lines.get(0));
      assertEquals(List.of("=> alice <alice@test.example> R=localuser T=maildir",
          "=> bob <bob@test.example> R=localuser T=maildir", "Completed"), lines.subList(1, 4));
      assertFalse(bus.spooled().contains(id), "committed to the spool");
      assertEquals(List.of(DELIVERED), bus.answers());
      // The file as a delivery from the spool writes it: Return-Path, then our Received header, then the message.
      Path file = server.mailbox("alice").get(0);
      String text = Files.readString(file, StandardCharsets.UTF_8);
      assertTrue(text.startsWith("Return-Path: <sender@example.org>\r\nReceived: from "), text);
      assertTrue(text.endsWith("Subject: queued\r\n\r\nbody\r\n"), text);
      assertTrue(file.getFileName().toString().contains(".M" + id + ".mx.test.example,S=" + Files.size(file)),
          file.toString());
    }
  }

  @Test
  void aMaildirThatCannotBeWrittenLeavesItsRecipientQueuedAndTheOtherGetsOneCopy() throws Exception {
    try (PosternTestServer server = server().start()) {
      Traffic bus = tap(server);
      Path bob = server.root().resolve("maildir").resolve("bob");
      Files.createDirectories(bob.getParent());
      // A file where bob's maildir should be: no tmp/ can be made under it.
      Files.writeString(bob, "not a directory");
      String id = server.accept("<sender@example.org>", "alice@test.example", "bob@test.example");
      assertEquals(1, server.mailbox("alice").size());
      assertTrue(bus.spooled().contains(id), "not committed to the spool");
      assertEquals(List.of(PARTIAL), bus.answers());
      awaitLog(id, " == bob <bob@test.example> R=localuser T=maildir defer: ");
      assertEquals(List.of("alice@test.example=delivered", "bob@test.example=pending"), states(server, id));
      List<String> lines = mainlog(id);
      assertTrue(lines.get(0).contains(" <= sender@example.org "), lines.toString());
      assertTrue(lines.get(1).endsWith(" => alice <alice@test.example> R=localuser T=maildir"), lines.toString());
      // Mended: the next queue run delivers bob, and alice is not written again.
      Files.delete(bob);
      RelayTesting.runUntilStarted(server, new JsonObject().put("force", true).put("wait", true));
      awaitLog(id, " Completed");
      assertEquals(1, server.mailbox("bob").size());
      assertEquals(1, server.mailbox("alice").size());
      assertEquals(1, mainlog(id).stream().filter(l -> l.contains(" => alice ")).count(), mainlog(id).toString());
      assertEquals(1, mainlog(id).stream().filter(l -> l.contains(" => bob ")).count(), mainlog(id).toString());
      assertSpoolEmpty(server);
    }
  }

  /**
   * A partial delivery whose spool commit then fails (the spool's file system is full): the client
   * gets 451 (RFC 3463 4.3.0) and nothing is queued; the mailbox written before the commit keeps its
   * one copy (the client sends the message again: Postern cannot take a durable file back), and the
   * main log accounts for it before the failure line.
   */
  @Test
  void aPartialDeliveryWhoseSpoolCommitFailsGets451AndQueuesNothing() throws Exception {
    PosternTestServer configured = server().option("check_spool_space", "0").option("check_spool_inodes", "0");
    Path spool = Files.createDirectories(configured.root().resolve("spool"));
    assumeTrue(TinyFileSystem.mount(spool, "256k"),
        "cannot mount a tmpfs here (not root?)");
    try (PosternTestServer server = configured.start()) {
      Traffic bus = tap(server);
      Path bob = server.root().resolve("maildir").resolve("bob");
      Files.createDirectories(bob.getParent());
      Files.writeString(bob, "not a directory");
      TinyFileSystem.fill(spool.resolve("filler"));
      String id;
      try (SmtpTestClient c = SmtpTestClient.connect(server.port())) {
        assertEquals(220, c.reply().code());
        assertEquals(250, c.command("EHLO client.example").code());
        assertEquals(250, c.command("MAIL FROM:<sender@example.org>").code());
        assertEquals(250, c.command("RCPT TO:<alice@test.example>").code());
        assertEquals(250, c.command("RCPT TO:<bob@test.example>").code());
        assertEquals(354, c.command("DATA").code());
        SmtpTestClient.Reply done = c.command("Subject: queued\r\n\r\nbody\r\n.");
        assertEquals(451, done.code(), done.text());
        assertTrue(done.text().startsWith("4.3.0 "), done.text());
        // The session goes on: the client may try again.
        assertEquals(250, c.command("RSET").code());
      }
      assertEquals(List.of(PARTIAL), bus.answers());
      assertEquals(Set.of(), bus.spooled(), "told the queue about a message that is not in the spool");
      assertEquals(1, server.mailbox("alice").size());
      // The 451 carries no id: the mailbox file's name does (<time>.M<id>.<host>).
      String name = server.mailbox("alice").get(0).getFileName().toString();
      id = name.substring(name.indexOf(".M") + 2, name.indexOf('.', name.indexOf(".M") + 2));
      awaitLog(id, " spool write failed: ");
      try (var left = Files.list(spool.resolve("input"))) {
        assertEquals(List.of(), left.map(f -> f.getFileName().toString()).toList());
      }
      List<String> lines = mainlog(id);
      assertEquals(2, lines.size(), lines.toString());
      assertTrue(lines.get(0).endsWith(" => alice <alice@test.example> R=localuser T=maildir"), lines.toString());
      assertTrue(lines.get(1).contains(" spool write failed: ") && lines.get(1).contains("; 451 to "), lines.toString());
    } finally {
      TinyFileSystem.unmount(spool);
    }
  }

  @Test
  void theOptionOffTakesTheSpool() throws Exception {
    try (PosternTestServer server = server().option("local_delivery_before_ack", "false").start()) {
      Traffic bus = tap(server);
      String id = server.accept("<sender@example.org>", "alice@test.example");
      assertTrue(bus.spooled().contains(id), "not committed to the spool");
      awaitLog(id, " Completed");
      assertEquals(1, server.mailbox("alice").size());
      assertEquals(List.of(), bus.answers(), "the listener asked the queue");
    }
  }

  @Test
  void queueOnlyTakesTheSpool() throws Exception {
    try (PosternTestServer server = server().option("queue_only", "true").start()) {
      String id = server.accept("<sender@example.org>", "alice@test.example");
      assertTrue(server.spoolFiles().contains(id + "-H"), server.spoolFiles().toString());
      awaitLog(id, " no immediate delivery: queued");
      assertEquals(0, server.mailbox("alice").size());
    }
  }

  @Test
  void anAclQueueOrFreezeTakesTheSpool() throws Exception {
    try (PosternTestServer server = server().start()) {
      Traffic bus = tap(server);
      String queued = server.accept("<sender@example.org>", "queued@test.example");
      assertTrue(server.spoolFiles().contains(queued + "-H"), server.spoolFiles().toString());
      awaitLog(queued, " no immediate delivery: queued by ACL");
      String frozen = server.accept("<sender@example.org>", "frozen@test.example");
      assertTrue(server.spoolFiles().contains(frozen + "-H"), server.spoolFiles().toString());
      awaitLog(frozen, " frozen by ACL");
      assertEquals(0, server.mailbox("queued").size());
      assertEquals(0, server.mailbox("frozen").size());
      assertEquals(List.of(NOT_ELIGIBLE, NOT_ELIGIBLE), bus.answers());
    }
  }

  @Test
  void recipientsNotAllForLocalMailboxesTakeTheSpool() throws Exception {
    try (PosternTestServer server = server().start()) {
      Traffic bus = tap(server);
      // A remote recipient beside a local one (no routers: it stays queued).
      String remote = server.accept("<sender@example.org>", "alice@test.example", "carol@remote.example");
      assertTrue(bus.spooled().contains(remote));
      awaitLog(remote, " == carol@remote.example R=none: ");
      // An alias that adds a remote recipient.
      String alias = server.accept("<sender@example.org>", "fwd@test.example");
      assertTrue(bus.spooled().contains(alias));
      // A local domain's unknown user (accepted by this ACL): bounced from the spool.
      String unknown = server.accept("<sender@example.org>", "nobody@test.example");
      assertTrue(bus.spooled().contains(unknown));
      awaitLog(unknown, " ** nobody@test.example: ");
      // A sender who asked to hear of the delivery (RFC 3461 NOTIFY=SUCCESS): the DSN is spooled.
      String dsn;
      try (SmtpTestClient c = SmtpTestClient.connect(server.port())) {
        c.reply();
        c.command("EHLO client.example");
        assertEquals(250, c.command("MAIL FROM:<sender@example.org>").code());
        assertEquals(250, c.command("RCPT TO:<alice@test.example> NOTIFY=SUCCESS").code());
        assertEquals(354, c.command("DATA").code());
        SmtpTestClient.Reply done = c.command("Subject: dsn\r\n\r\nbody\r\n.");
        assertEquals(250, done.code(), done.toString());
        dsn = done.text().substring(done.text().indexOf("id=") + 3).strip();
      }
      assertTrue(bus.spooled().contains(dsn));
      awaitLog(dsn, " Completed");
      assertEquals(2, server.mailbox("alice").size());
      assertEquals(List.of(NOT_ELIGIBLE, NOT_ELIGIBLE, NOT_ELIGIBLE, NOT_ELIGIBLE), bus.answers());
    }
  }

  @Test
  void aMessageSpilledToTheSpoolWhileArrivingTakesTheSpool() throws Exception {
    try (PosternTestServer server = server().start()) {
      Traffic bus = tap(server);
      StringBuilder body = new StringBuilder("Subject: big\r\n\r\n");
      while (body.length() < 300 * 1024) {
        body.append("x".repeat(98)).append("\r\n");
      }
      String id = RelayTesting.send(server, "sender@example.org", body.toString(), "alice@test.example");
      assertTrue(bus.spooled().contains(id), "not committed to the spool");
      awaitLog(id, " Completed");
      assertEquals(1, server.mailbox("alice").size());
      assertEquals(List.of(), bus.answers(), "the listener offered a spilled message");
    }
  }
}
