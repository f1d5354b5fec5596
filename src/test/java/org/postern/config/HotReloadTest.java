package org.postern.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postern.testing.Await;
import org.postern.testing.PosternTestServer;
import org.postern.testing.PublishedEvents;
import org.postern.testing.SmtpTestClient;
import org.postern.testing.SmtpTestClient.Reply;

/**
 * Hot reload on a real server: ConfigVerticle scans conf/ every second; a valid change is in
 * force within a few seconds without a restart, a broken one is refused and the previous
 * generation stays, and a running session keeps the generation it started with.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HotReloadTest {
  private static final String OUTSIDER = "127.0.0.2";
  private static final long WITHIN_MS = 3000;
  private static final String RELAY_DENY = "  - deny:    { message: relay not permitted }";

  private PosternTestServer server;

  @BeforeEach
  void start() throws Exception {
    server = PosternTestServer.create().start();
  }

  @AfterEach
  void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  private String aclText() throws IOException {
    return Files.readString(server.confDir().resolve("acl.yaml"), StandardCharsets.UTF_8);
  }

  private void writeConf(String name, String text) throws IOException {
    Files.writeString(server.confDir().resolve(name), text, StandardCharsets.UTF_8);
  }

  /** The shipped acl.yaml with an accept for 127.0.0.2 just before the final relay deny. */
  private String aclAllowingOutsider() throws IOException {
    String acl = aclText();
    assertTrue(acl.contains(RELAY_DENY), "shipped acl.yaml changed shape:\n" + acl);
    return acl.replace(RELAY_DENY, "  - accept:  { hosts: 127.0.0.2 }\n" + RELAY_DENY);
  }

  /** Opens a session from {@code source}, greets, gives a sender, returns the client ready for RCPT. */
  private SmtpTestClient open(String source) throws IOException {
    SmtpTestClient c = SmtpTestClient.connectFrom(source, server.port());
    assertEquals(220, c.reply().code());
    assertEquals(250, c.command("EHLO client.example").code());
    assertEquals(250, c.command("MAIL FROM:<sender@example.org>").code());
    return c;
  }

  /** One RCPT in a fresh session. */
  private Reply rcpt(String source, String recipient) throws IOException {
    try (SmtpTestClient c = open(source)) {
      Reply r = c.command("RCPT TO:<" + recipient + ">");
      c.send("QUIT\r\n");
      return r;
    }
  }

  /** Polls with fresh sessions until the RCPT gets {@code code} or the time is up; returns the last reply. */
  private Reply awaitRcpt(String source, String recipient, int code, long millis) throws Exception {
    return Await.value(millis, () -> rcpt(source, recipient), r -> r.code() == code);
  }

  private String currentGeneration() {
    return ConfigHolder.of(server.vertx()).current().generation();
  }

  private JsonObject reload() throws Exception {
    Message<Object> reply = server.vertx().eventBus().request("postern.config.reload", new JsonObject())
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    return (JsonObject) reply.body();
  }

  // ---------------------------------------------------------------------------------------------

  @Test
  void aclChangeTakesEffectWithoutRestartButNotInRunningSessions() throws Exception {
    Reply before = rcpt(OUTSIDER, "x@remote.example");
    assertEquals(550, before.code(), before.toString());
    assertEquals("5.7.1", before.enhanced(), before.toString());

    String generationBefore = currentGeneration();
    try (SmtpTestClient old = open(OUTSIDER)) {
      Reply oldFirst = old.command("RCPT TO:<x@remote.example>");
      assertEquals(550, oldFirst.code(), oldFirst.toString());

      long changedAt = System.currentTimeMillis();
      writeConf("acl.yaml", aclAllowingOutsider());
      Reply after = awaitRcpt(OUTSIDER, "x@remote.example", 250, WITHIN_MS);
      assertEquals(250, after.code(), "new sessions should relay within " + WITHIN_MS + " ms; last: " + after);
      assertTrue(System.currentTimeMillis() - changedAt <= WITHIN_MS + 1000);
      assertNotEquals(generationBefore, currentGeneration());

      // The session opened before the change is still alive and keeps its configuration.
      Reply noop = old.command("NOOP");
      assertEquals(250, noop.code(), noop.toString());
      Reply oldAgain = old.command("RCPT TO:<x@remote.example>");
      assertEquals(550, oldAgain.code(), "a running session keeps the rules it started with: " + oldAgain);
      assertEquals("5.7.1", oldAgain.enhanced(), oldAgain.toString());
      assertEquals(250, old.command("RCPT TO:<alice@test.example>").code());
      assertEquals(221, old.command("QUIT").code());
    }

    // Still from the relay host and for local users, as before.
    assertEquals(250, rcpt("127.0.0.1", "x@remote.example").code());
    assertEquals(250, rcpt(OUTSIDER, "alice@test.example").code());
  }

  @Test
  void brokenAclIsRefusedAndPreviousRulesStay() throws Exception {
    writeConf("acl.yaml", aclAllowingOutsider());
    Reply allowed = awaitRcpt(OUTSIDER, "x@remote.example", 250, WITHIN_MS);
    assertEquals(250, allowed.code(), allowed.toString());
    String good = currentGeneration();

    String broken = aclAllowingOutsider().replace("{ hosts: 127.0.0.2 }", "{ hostz: 127.0.0.2 }");
    PublishedEvents refusals = PublishedEvents.on(server.vertx(), org.postern.bus.Addresses.CONFIG_REFUSED);
    writeConf("acl.yaml", broken);
    // The file on disk is really refused by the loader (so the test cannot pass vacuously).
    ConfigException refused = assertThrows(ConfigException.class,
        () -> ConfigLoader.load(server.confDir().resolve("postern.yaml")));
    assertTrue(refused.getMessage().contains("hostz"), refused.getMessage());

    refusals.await(WITHIN_MS + 1000, e -> e.getString("error").contains("hostz"));
    assertEquals(good, currentGeneration(), "a refused configuration must not be installed");
    Reply still = rcpt(OUTSIDER, "x@remote.example");
    assertEquals(250, still.code(), "previous rules stay in force: " + still);
    Reply localUnknown = rcpt(OUTSIDER, "nobody@test.example");
    assertEquals(550, localUnknown.code(), localUnknown.toString());
    assertEquals("5.1.1", localUnknown.enhanced(), localUnknown.toString());

    // An explicit reload of the broken files fails and changes nothing either.
    ExecutionException e = assertThrows(ExecutionException.class, this::reload);
    assertTrue(String.valueOf(e.getCause().getMessage()).contains("hostz"), String.valueOf(e.getCause()));
    assertEquals(good, currentGeneration());

    // Fixing the file is picked up again.
    writeConf("acl.yaml", Files.readString(Path.of("conf", "acl.yaml")));
    Reply fixed = awaitRcpt(OUTSIDER, "x@remote.example", 550, WITHIN_MS);
    assertEquals(550, fixed.code(), fixed.toString());
  }

  @Test
  void aDeletedAclFileIsOneClearLinePerChangeNotAStackTracePerScan() throws Exception {
    ch.qos.logback.classic.Logger root = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory
        .getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> seen =
        new ch.qos.logback.core.read.ListAppender<>();
    seen.start();
    root.addAppender(seen);
    try {
      String good = currentGeneration();
      String acl = aclText();
      Files.delete(server.confDir().resolve("acl.yaml"));
      awaitLogged(seen, 1, "configuration refused");
      // Exim's paniclog beside the main log has it too: an error that needs an admin.
      Path paniclog = Path.of(System.getProperty("postern.log.dir", "target/test-logs"), "paniclog");
      String missing = server.confDir().resolve("acl.yaml") + ": file not found";
      Await.value(10_000, () -> Files.exists(paniclog) ? Files.readString(paniclog, StandardCharsets.UTF_8) : "",
          text -> text.lines().anyMatch(l -> l.contains("configuration refused") && l.contains(missing)));
      assertTrue(Files.readString(paniclog, StandardCharsets.UTF_8).lines()
          .anyMatch(l -> l.contains("configuration refused") && l.contains(missing)), "paniclog: " + paniclog);
      // Each scan sees the file missing; a change elsewhere is one more refusal, not a scan's worth.
      String passwd = Files.readString(server.confDir().resolve("passwd"), StandardCharsets.UTF_8);
      writeConf("passwd", passwd + "carol:{PLAIN}x\n");
      awaitLogged(seen, 2, "configuration refused");
      assertEquals(good, currentGeneration(), "the configuration in force stays");
      assertEquals(550, rcpt(OUTSIDER, "x@remote.example").code(), "its ACLs still apply");
      writeConf("acl.yaml", acl);
      awaitLogged(seen, 1, "in force");

      java.util.List<String> problems = new java.util.ArrayList<>();
      for (ch.qos.logback.classic.spi.ILoggingEvent e : java.util.List.copyOf(seen.list)) {
        boolean error = e.getLevel().isGreaterOrEqual(ch.qos.logback.classic.Level.WARN);
        if (error && (e.getThrowableProxy() != null || !e.getFormattedMessage().contains("configuration refused")
            || !e.getFormattedMessage().contains("acl.yaml: file not found"))) {
          problems.add(e.getLoggerName() + ": " + e.getFormattedMessage()
              + (e.getThrowableProxy() == null ? "" : " + stack trace"));
        }
      }
      assertEquals(java.util.List.of(), problems);
    } finally {
      root.detachAppender(seen);
    }
  }

  /** Waits until {@code count} events containing {@code text} were logged (deadline 10 s). */
  private static void awaitLogged(ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> seen,
                                  int count, String text) throws Exception {
    long n = Await.value(10_000,
        () -> java.util.List.copyOf(seen.list).stream().filter(e -> e.getFormattedMessage().contains(text)).count(),
        logged -> logged >= count);
    if (n >= count) {
      return;
    }
    throw new AssertionError("not logged " + count + " times: " + text + "; logged: "
        + java.util.List.copyOf(seen.list).stream().map(e -> e.getLevel() + " " + e.getFormattedMessage()).toList());
  }

  @Test
  void passwdChangeAddsUserWithinSeconds() throws Exception {
    Reply before = rcpt(OUTSIDER, "carol@test.example");
    assertEquals(550, before.code(), before.toString());
    assertEquals("5.1.1", before.enhanced(), before.toString());

    String passwd = Files.readString(server.confDir().resolve("passwd"), StandardCharsets.UTF_8);
    writeConf("passwd", passwd + "carol:{PLAIN}x\n");
    Reply after = awaitRcpt(OUTSIDER, "carol@test.example", 250, WITHIN_MS);
    assertEquals(250, after.code(), "carol should be accepted within " + WITHIN_MS + " ms; last: " + after);
    assertEquals(250, rcpt(OUTSIDER, "CAROL@test.example").code());
    assertEquals(550, rcpt(OUTSIDER, "dave@test.example").code());
  }

  @Test
  void aliasesChangeAddsAliasWithinSeconds() throws Exception {
    assertEquals(550, rcpt(OUTSIDER, "sales@test.example").code());
    String aliases = Files.readString(server.confDir().resolve("aliases"), StandardCharsets.UTF_8);
    writeConf("aliases", aliases + "sales: alice, bob\n");
    Reply after = awaitRcpt(OUTSIDER, "sales@test.example", 250, WITHIN_MS);
    assertEquals(250, after.code(), after.toString());
  }

  @Test
  void reloadRequestRepliesWithCurrentGeneration() throws Exception {
    Path main = server.confDir().resolve("postern.yaml");
    JsonObject first = reload();
    assertEquals(currentGeneration(), first.getString("generation"), first.encode());
    assertEquals(ConfigLoader.load(main).generation(), first.getString("generation"));

    // A change is read at once by an explicit reload, without waiting for the scan.
    String passwd = Files.readString(server.confDir().resolve("passwd"), StandardCharsets.UTF_8);
    writeConf("passwd", passwd + "carol:{PLAIN}x\n");
    String expected = ConfigLoader.load(main).generation();
    assertNotEquals(first.getString("generation"), expected);
    JsonObject second = reload();
    assertEquals(expected, second.getString("generation"), second.encode());
    assertEquals(expected, currentGeneration());
    assertEquals(250, rcpt(OUTSIDER, "carol@test.example").code());
  }
}
