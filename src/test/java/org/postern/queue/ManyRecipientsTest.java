package org.postern.queue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postern.testing.PosternTestServer;
import org.postern.testing.ScriptedServers;
import org.postern.testing.ScriptedSmtpServer;
import org.postern.testing.SmtpTestClient;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.postern.queue.RelayTesting.TRANSPORTS;
import static org.postern.queue.RelayTesting.assertSpoolEmpty;
import static org.postern.queue.RelayTesting.awaitLog;
import static org.postern.queue.RelayTesting.mainlog;
import static org.postern.queue.RelayTesting.manualroute;

/**
 * A message with many recipients (issue 11: 50,000 RCPTs to one mailbox blocked the queue's event
 * loop for 40 s and wrote a main-log line per recipient). Identical recipients, also after alias
 * expansion, get one delivery per distinct mailbox, logged once as Exim does (its test 0335:
 * {@code exim -odi clone clone clone c2 c2} logs one {@code => clone <c2@test.ex>}); and a large
 * list is handled without blocking an event loop, so other mail keeps flowing.
 */
@Timeout(180)
class ManyRecipientsTest {
  private static final String CONTENT = "Subject: many\r\n\r\nHello.\r\n";
  @RegisterExtension
  static final ScriptedServers REMOTES = new ScriptedServers();
  private ListAppender<ILoggingEvent> blocked;
  private Logger checker;

  @BeforeEach
  void watchBlockedThreads() {
    // Vert.x's BlockedThreadChecker warns about any event loop held longer than 2 s.
    checker = (Logger) LoggerFactory.getLogger("io.vertx.core.impl.BlockedThreadChecker");
    blocked = new ListAppender<>();
    blocked.start();
    checker.addAppender(blocked);
  }

  @AfterEach
  void stopWatching() {
    checker.detachAppender(blocked);
  }

  /** Sends one message with the RCPTs pipelined in groups; returns its spool id. */
  private static String send(PosternTestServer server, List<String> recipients) throws Exception {
    try (SmtpTestClient c = SmtpTestClient.connect(server.port())) {
      c.timeout(120_000);
      assertEquals(220, c.reply().code());
      assertEquals(250, c.command("EHLO client.example").code());
      assertEquals(250, c.command("MAIL FROM:<sender@client.example>").code());
      for (int i = 0; i < recipients.size(); i += 500) {
        List<String> group = recipients.subList(i, Math.min(recipients.size(), i + 500));
        StringBuilder lines = new StringBuilder();
        group.forEach(r -> lines.append("RCPT TO:<").append(r).append(">\r\n"));
        c.send(lines.toString());
        for (String r : group) {
          SmtpTestClient.Reply reply = c.reply();
          assertEquals(250, reply.code(), r + ": " + reply);
        }
      }
      assertEquals(354, c.command("DATA").code());
      SmtpTestClient.Reply done = c.command(CONTENT + ".");
      assertEquals(250, done.code(), done.toString());
      c.command("QUIT");
      return done.text().substring(done.text().indexOf("id=") + 3).strip();
    }
  }

  private static List<String> deliveries(String id) throws Exception {
    return mainlog(id).stream().filter(l -> l.contains(id + " => ")).toList();
  }

  @Test
  void identicalRecipientsGetOneDeliveryPerDistinctMailboxLoggedOnce() throws Exception {
    List<String> rcpts = new ArrayList<>(Collections.nCopies(300, "alice@test.example"));
    // postmaster and root are aliases of admin (conf/aliases); BOB is bob's mailbox in other case.
    rcpts.addAll(List.of("postmaster@test.example", "bob@test.example", "root@test.example",
        "admin@test.example", "BOB@test.example", "bob@test.example"));
    rcpts.addAll(Collections.nCopies(300, "alice@test.example"));
    try (PosternTestServer server = PosternTestServer.create().start()) {
      String id = send(server, rcpts);
      awaitLog(id, " Completed");
      assertEquals(1, server.mailbox("alice").size(), "alice");
      assertEquals(1, server.mailbox("admin").size(), "admin");
      assertEquals(1, server.mailbox("bob").size(), "bob");
      // One line per delivery, naming the first recipient that led to it (Exim discards duplicates
      // after routing and logs nothing for them; they are done when their original is).
      assertEquals(List.of("=> alice <alice@test.example> R=localuser T=maildir",
              "=> admin <postmaster@test.example> R=localuser T=maildir",
              "=> bob <bob@test.example> R=localuser T=maildir"),
          deliveries(id).stream().map(l -> l.substring(l.indexOf("=> "))).toList());
      assertSpoolEmpty(server);
    }
  }

  @Test
  void identicalRemoteRecipientsAreSentOnceAndLoggedOnce() throws Exception {
    ScriptedSmtpServer remote = REMOTES.start(ScriptedSmtpServer.create());
    try (PosternTestServer server = PosternTestServer.create()
        .option("routers", manualroute("127.0.0.1::" + remote.port())).option("transports", TRANSPORTS).start()) {
      // The domain is compared without case, the local part with it (Exim's duplicate check).
      String id = send(server, List.of("bob@remote.example", "carol@remote.example", "bob@REMOTE.example",
          "bob@remote.example", "Bob@remote.example"));
      awaitLog(id, " Completed");
      assertEquals(List.of("RCPT TO:<bob@remote.example>", "RCPT TO:<carol@remote.example>",
          "RCPT TO:<Bob@remote.example>"), remote.commands("RCPT").stream().map(c -> c.line()).toList());
      assertEquals(List.of("=> bob@remote.example", "=> carol@remote.example", "=> Bob@remote.example"),
          deliveries(id).stream().map(l -> l.substring(l.indexOf("=> "), l.indexOf(" R="))).toList());
      assertSpoolEmpty(server);
    }
  }

  @Test
  void aLargeRecipientListBlocksNoEventLoopAndOtherMailIsDeliveredMeanwhile() throws Exception {
    List<String> rcpts = new ArrayList<>();
    for (int i = 0; i < 20_000; i++) {
      // Half alice herself, half distinct aliases of hers: one mailbox, 10,001 distinct addresses.
      rcpts.add(i % 2 == 0 ? "alice@test.example" : "alias" + i + "@test.example");
    }
    try (PosternTestServer server = PosternTestServer.create()
        .aliases(aliasesFor(rcpts), "postmaster: admin").start()) {
      String big = send(server, rcpts);
      awaitLog(big, " => alice <");
      String other = RelayTesting.send(server, "sender@client.example", CONTENT, "bob@test.example");
      awaitLog(other, " => bob <bob@test.example>");
      awaitLog(big, " Completed");
      assertEquals(1, server.mailbox("alice").size());
      assertEquals(List.of(), blocked.list.stream().map(ILoggingEvent::getFormattedMessage).toList(),
          "an event loop was blocked");
      assertSpoolEmpty(server);
    }
  }

  /** One alias line per alias recipient: {@code alias123: alice}. */
  private static String aliasesFor(List<String> rcpts) {
    StringBuilder sb = new StringBuilder();
    for (String r : rcpts) {
      if (!r.startsWith("alice@")) {
        sb.append(r, 0, r.indexOf('@')).append(": alice\n");
      }
    }
    return sb.toString();
  }
}
