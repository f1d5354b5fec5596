package org.postern.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postern.testing.Await;
import org.postern.testing.ChildPostern;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient;
import org.postern.testing.SmtpTestClient.Reply;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code kill -HUP} makes the daemon re-read its configuration, as Exim does. The file watcher is
 * slowed to once an hour ({@code scan_period_ms} in the deployment list), so only the signal can
 * bring the change in: a new acl rule is in force for new sessions within 2 s, the daemon keeps
 * running, and a session opened before the signal keeps its rules and stays usable.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SighupReloadTest {
  private static final String OUTSIDER = "127.0.0.2";
  private static final long WITHIN_MS = 2000;
  private static final String RELAY_DENY = "  - deny:    { message: relay not permitted }";
  private static final Pattern IN_FORCE = Pattern.compile("configuration generation (\\S+) in force");

  private PosternTestServer files;
  private ChildPostern daemon;
  private int port;

  @BeforeEach
  void start() throws Exception {
    port = ChildPostern.freePort();
    files = PosternTestServer.create().option("listeners", "{ smtp: { address: 127.0.0.1, port: " + port + " } }");
    Path config = files.writeConfig();
    Path verticles = files.root().resolve("verticles.json");
    Files.writeString(verticles, slowWatcher(Files.readString(Path.of("verticles.json"))).encodePrettily());
    daemon = ChildPostern.daemon(files.root(), config, port, "--verticles", verticles.toString());
  }

  @AfterEach
  void stop() throws Exception {
    if (daemon != null) {
      daemon.close();
    }
    files.close();
  }

  /** The shipped deployment list with ConfigVerticle scanning the files once an hour. */
  private static JsonObject slowWatcher(String shipped) {
    JsonObject list = new JsonObject(shipped);
    JsonArray verticles = list.getJsonArray("verticles");
    boolean found = false;
    for (int i = 0; i < verticles.size(); i++) {
      JsonObject v = verticles.getJsonObject(i);
      if (v.getString("name").equals(ConfigVerticle.class.getName())) {
        v.put("config", v.getJsonObject("config", new JsonObject()).copy().put("scan_period_ms", 3_600_000L));
        found = true;
      }
    }
    assertTrue(found, "no ConfigVerticle in verticles.json");
    return list;
  }

  private SmtpTestClient open() throws IOException {
    SmtpTestClient c = SmtpTestClient.connectFrom(OUTSIDER, port);
    assertEquals(220, c.reply().code());
    assertEquals(250, c.command("EHLO client.example").code());
    assertEquals(250, c.command("MAIL FROM:<sender@example.org>").code());
    return c;
  }

  private Reply relayAttempt() throws IOException {
    try (SmtpTestClient c = open()) {
      Reply r = c.command("RCPT TO:<x@remote.example>");
      c.send("QUIT\r\n");
      return r;
    } catch (IOException e) {
      throw new IOException(e.getMessage() + "\n" + daemon.diagnostics(), e);
    }
  }

  private long generationsLogged() {
    return daemon.stderr().lines().filter(l -> IN_FORCE.matcher(l).find()).count();
  }

  @Test
  void hangupReloadsTheAclWhileTheDaemonAndItsSessionsLiveOn() throws Exception {
    Reply before = relayAttempt();
    assertEquals(550, before.code(), before.toString());
    assertEquals("5.7.1", before.enhanced(), before.toString());

    try (SmtpTestClient old = open()) {
      // Change acl.yaml: 127.0.0.2 may relay. The slowed watcher does not notice.
      Path acl = files.confDir().resolve("acl.yaml");
      String text = Files.readString(acl, StandardCharsets.UTF_8);
      assertTrue(text.contains(RELAY_DENY), "shipped acl.yaml changed shape:\n" + text);
      Files.writeString(acl, text.replace(RELAY_DENY, "  - accept:  { hosts: " + OUTSIDER + " }\n" + RELAY_DENY),
          StandardCharsets.UTF_8);
      long logged = generationsLogged();
      Reply unsignalled = relayAttempt();
      assertEquals(550, unsignalled.code(), "without SIGHUP (watcher slowed to 1 h) nothing changes: " + unsignalled);

      Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(daemon.process().pid())).start();
      assertEquals(0, kill.waitFor(), "kill -HUP failed");
      Reply after = Await.value(WITHIN_MS, this::relayAttempt, r -> r.code() == 250);
      assertEquals(250, after.code(), "after SIGHUP the new rule should be in force within " + WITHIN_MS
          + " ms: " + after + "\n" + daemon.diagnostics());
      assertTrue(daemon.process().isAlive(), "the daemon must survive SIGHUP");
      assertTrue(generationsLogged() > logged, "SIGHUP should log the new generation:\n" + daemon.diagnostics());
      // The signal brought it in: until the daemon logged the signal, no new generation was in force.
      List<String> stderr = daemon.stderr().lines().toList();
      int signalled = stderr.indexOf(stderr.stream().filter(l -> l.contains("SIGHUP received")).findFirst()
          .orElseThrow(() -> new AssertionError("no SIGHUP line:\n" + daemon.diagnostics())));
      assertEquals(logged, stderr.subList(0, signalled).stream().filter(l -> IN_FORCE.matcher(l).find()).count(),
          () -> "a generation came into force before the signal (the watcher?):\n" + daemon.diagnostics());
      Matcher last = null;
      for (String line : (Iterable<String>) daemon.stderr().lines()::iterator) {
        Matcher m = IN_FORCE.matcher(line);
        if (m.find()) {
          last = m;
        }
      }
      assertEquals(ConfigLoader.load(files.confDir().resolve("postern.yaml")).generation(), last.group(1),
          "the generation in force is the one of the files on disk");

      // The session opened before the signal is alive and keeps the rules it started with.
      assertEquals(250, old.command("NOOP").code());
      Reply oldRelay = old.command("RCPT TO:<x@remote.example>");
      assertEquals(550, oldRelay.code(), "a running session keeps its configuration: " + oldRelay);
      assertEquals(250, old.command("RCPT TO:<alice@test.example>").code());
      assertEquals(221, old.command("QUIT").code());
    }
    assertTrue(daemon.process().isAlive(), daemon::diagnostics);
  }
}
