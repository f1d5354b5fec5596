package org.postern.config;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postern.testing.Await;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient;
import org.postern.testing.SmtpTestClient.Reply;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * acl.yaml changes while 20 sessions keep sending: a new rule is in force for new sessions within
 * 2 s; the running sessions keep the generation they started with (they still may write to the
 * newly blocked user), never see a 4xx/5xx or a disconnect; a broken acl.yaml afterwards is refused
 * with file and line in the log, the previous rules stay, and every accepted message is delivered.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class AclHotReloadUnderLoadTest {
  private static final int SESSIONS = 20;
  private static final long WITHIN_MS = 2000;
  private static final String FIRST_RULE = "acl_check_rcpt:\n";
  private static final String BLOCK_RULE = "  - deny:    { condition: \"${if eq{$local_part}{blocked}}\", "
      + "message: \"$local_part is blocked\" }\n";

  private PosternTestServer server;
  private final List<String> logged = new CopyOnWriteArrayList<>();
  private final Capture capture = new Capture();

  /** Keeps the formatted messages of the config verticle's log. */
  private final class Capture extends AppenderBase<ILoggingEvent> {
    @Override
    protected void append(ILoggingEvent e) {
      logged.add(e.getFormattedMessage());
    }
  }

  @BeforeEach
  void start() throws Exception {
    capture.setContext((ch.qos.logback.classic.LoggerContext) LoggerFactory.getILoggerFactory());
    capture.start();
    ((Logger) LoggerFactory.getLogger(ConfigVerticle.class)).addAppender(capture);
    server = PosternTestServer.create()
        .users("admin:", "alice:{PLAIN}alice-secret", "blocked:{PLAIN}blocked-secret")
        .start();
  }

  @AfterEach
  void stop() throws Exception {
    ((Logger) LoggerFactory.getLogger(ConfigVerticle.class)).detachAppender(capture);
    if (server != null) {
      server.close();
    }
  }

  /** One long session sending message after message to alice and blocked, until told to stop. */
  private final class Sender implements Runnable {
    final AtomicInteger sent = new AtomicInteger();
    final int index;

    Sender(int index) {
      this.index = index;
    }

    @Override
    public void run() {
      try (SmtpTestClient c = SmtpTestClient.connect(server.port())) {
        expect(c, c.reply(), 220, "greeting");
        expect(c, c.command("EHLO load" + index + ".example"), 250, "EHLO");
        while (!stopping.get()) {
          expect(c, c.command("MAIL FROM:<load" + index + "@client.example>"), 250, "MAIL");
          expect(c, c.command("RCPT TO:<alice@test.example>"), 250, "RCPT alice");
          expect(c, c.command("RCPT TO:<blocked@test.example>"), 250, "RCPT blocked");
          expect(c, c.command("DATA"), 354, "DATA");
          expect(c, c.command("Subject: load " + index + " #" + sent.get() + "\r\n\r\nsmall\r\n."), 250, "end of data");
          sent.incrementAndGet();
        }
        expect(c, c.command("QUIT"), 221, "QUIT");
      } catch (IOException | RuntimeException e) {
        failures.add("session " + index + " after " + sent.get() + " messages: " + e);
      }
    }

    private void expect(SmtpTestClient c, Reply r, int code, String what) {
      if (r.code() != code) {
        failures.add("session " + index + " " + what + ": " + r);
        throw new IllegalStateException(what + " failed");
      }
    }
  }

  private final AtomicBoolean stopping = new AtomicBoolean();
  private final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();

  private Reply rcptInNewSession(String recipient) throws IOException {
    try (SmtpTestClient c = SmtpTestClient.connect(server.port())) {
      assertEquals(220, c.reply().code());
      assertEquals(250, c.command("EHLO probe.example").code());
      assertEquals(250, c.command("MAIL FROM:<probe@client.example>").code());
      Reply r = c.command("RCPT TO:<" + recipient + ">");
      c.send("QUIT\r\n");
      return r;
    }
  }

  private String generation() {
    return ConfigHolder.of(server.vertx()).current().generation();
  }

  private static void awaitAll(List<Sender> senders, int[] atLeast, long millis) throws Exception {
    Await.holdsWithin(millis, () -> {
      for (int i = 0; i < senders.size(); i++) {
        if (senders.get(i).sent.get() <= atLeast[i]) {
          return false;
        }
      }
      return true;
    });
  }

  private static int[] counts(List<Sender> senders) {
    return senders.stream().mapToInt(s -> s.sent.get()).toArray();
  }

  @Test
  void newRuleReachesNewSessionsWhileRunningSessionsKeepSendingAndBrokenFileIsRefused() throws Exception {
    String shipped = Files.readString(server.confDir().resolve("acl.yaml"), StandardCharsets.UTF_8);
    assertTrue(shipped.contains(FIRST_RULE), "shipped acl.yaml changed shape:\n" + shipped);
    assertEquals(250, rcptInNewSession("blocked@test.example").code(), "blocked is a real user before the change");

    List<Sender> senders = new ArrayList<>();
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < SESSIONS; i++) {
      Sender s = new Sender(i);
      senders.add(s);
      Thread t = new Thread(s, "load-session-" + i);
      threads.add(t);
      t.start();
    }
    // Every session has completed a message under the old rules before anything changes.
    int[] none = new int[SESSIONS];
    awaitAll(senders, none, 30_000);
    assertTrue(failures.isEmpty(), failures::toString);
    for (Sender s : senders) {
      assertTrue(s.sent.get() > 0, "session " + s.index + " sent nothing in 30 s");
    }
    String before = generation();

    // 1. A new rule: new sessions get it within 2 s.
    String blocking = shipped.replace(FIRST_RULE, FIRST_RULE + BLOCK_RULE);
    long changedAt = System.currentTimeMillis();
    Files.writeString(server.confDir().resolve("acl.yaml"), blocking, StandardCharsets.UTF_8);
    Reply probe = Await.value(WITHIN_MS, () -> rcptInNewSession("blocked@test.example"), r -> r.code() == 550);
    long took = System.currentTimeMillis() - changedAt;
    assertEquals(550, probe.code(), "new sessions should see the new rule within " + WITHIN_MS + " ms: " + probe);
    assertEquals("blocked is blocked", probe.lines().get(0).replaceFirst("^5\\.7\\.1 ", ""), probe.toString());
    assertTrue(took <= WITHIN_MS, "took " + took + " ms");
    String blockingGeneration = generation();
    assertNotEquals(before, blockingGeneration);
    assertEquals(250, rcptInNewSession("alice@test.example").code());

    // The running sessions go on under the generation they started with, blocked included.
    int[] atChange = counts(senders);
    awaitAll(senders, atChange, 30_000);
    assertTrue(failures.isEmpty(), "running sessions must not notice the reload: " + failures);
    for (int i = 0; i < SESSIONS; i++) {
      assertTrue(senders.get(i).sent.get() > atChange[i], "session " + i + " stalled after the reload");
    }

    // 2. A broken acl.yaml: refused, with file and line; the previous rules stay.
    String broken = blocking.replace("{ domains: +local_domains }", "{ domainz: +local_domains }");
    assertNotEquals(blocking, broken);
    int brokenLine = lineOf(broken, "domainz");
    Files.writeString(server.confDir().resolve("acl.yaml"), broken, StandardCharsets.UTF_8);
    Pattern refusal = Pattern.compile("configuration refused, previous one stays in force: .*acl\\.yaml:"
        + brokenLine + ": .*domainz.*");
    Await.holdsWithin(10_000, () -> logged.stream().anyMatch(m -> refusal.matcher(m).matches()));
    assertTrue(logged.stream().anyMatch(m -> refusal.matcher(m).matches()),
        "no refusal naming acl.yaml:" + brokenLine + " in " + logged);
    assertEquals(blockingGeneration, generation(), "a refused acl.yaml must not be installed");
    Reply stillBlocked = rcptInNewSession("blocked@test.example");
    assertEquals(550, stillBlocked.code(), "the previous rules stay in force: " + stillBlocked);
    assertEquals(250, rcptInNewSession("alice@test.example").code());

    int[] atBreak = counts(senders);
    awaitAll(senders, atBreak, 30_000);
    for (int i = 0; i < SESSIONS; i++) {
      assertTrue(senders.get(i).sent.get() > atBreak[i], "session " + i + " stalled after the broken file");
    }

    stopping.set(true);
    for (Thread t : threads) {
      t.join(30_000);
    }
    assertTrue(failures.isEmpty(), "running sessions must never fail: " + failures);

    // No loss: every accepted message reached both mailboxes.
    int total = senders.stream().mapToInt(s -> s.sent.get()).sum();
    assertEquals(total, server.awaitMailbox("alice", total, 30_000).size(), "alice's deliveries");
    assertEquals(total, server.awaitMailbox("blocked", total, 30_000).size(), "blocked's deliveries");
  }

  private static int lineOf(String text, String needle) {
    String[] lines = text.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      if (lines[i].contains(needle)) {
        return i + 1;
      }
    }
    throw new IllegalArgumentException(needle + " not in text");
  }
}
