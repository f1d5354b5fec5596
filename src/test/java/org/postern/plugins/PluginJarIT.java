package org.postern.plugins;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postern.testing.Await;
import org.postern.testing.ChildPostern;
import org.postern.testing.MainLogFile;
import org.postern.testing.PluginJars;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Plugins as an operator installs them: a jar compiled here, at test time, against the built
 * classes, dropped into {@code plugins/} beside {@code conf/}, and loaded by {@code java -jar
 * target/postern.jar} alone (a child JVM; this test runs after {@code package}, under failsafe). Its
 * ACL condition denies, its authenticator logs a user in, its transport receives a delivery, a
 * plugin that throws at start is logged
 * and left out, one that never answers defers within its timeout, and editing {@code verticles.json}
 * or replacing the jar on the running server deploys and redeploys plugins while a session stays open.
 */
@Timeout(240)
class PluginJarIT {
  private static final Path POSTERN_JAR = Path.of("target", "postern.jar");
  private static final String PACKAGE = "example.plugins";

  private static final String DENY_LIST = """
      package example.plugins;

      import io.vertx.core.Future;
      import io.vertx.core.VerticleBase;
      import io.vertx.core.json.JsonObject;
      import org.postern.bus.PluginConditionReply;
      import org.postern.bus.PluginConditionRequest;

      /** plugin: denylist/ARG is true when ARG is one of config.listed. */
      public class DenyList extends VerticleBase {
        @Override
        public Future<?> start() {
          return vertx.eventBus().<JsonObject>localConsumer("postern.acl.condition.denylist", m -> {
            PluginConditionRequest r = PluginConditionRequest.fromJson(m.body());
            boolean listed = config().getJsonArray("listed").contains(r.argument());
            m.reply(new PluginConditionReply(listed ? PluginConditionReply.Result.TRUE
                : PluginConditionReply.Result.FALSE, java.util.Map.of("acl_m_list", "checked"), java.util.List.of(),
                listed ? "denylist matched " + r.argument() : null, null).toJson());
          }).completion();
        }
      }
      """;

  private static final String ARCHIVE = """
      package example.plugins;

      import io.vertx.core.Future;
      import io.vertx.core.VerticleBase;
      import io.vertx.core.json.JsonArray;
      import io.vertx.core.json.JsonObject;
      import org.postern.bus.DeliveryRequest;

      import java.nio.file.Files;
      import java.nio.file.Path;

      /** A transport: copies the message to config.directory as ID.eml and says delivered for everyone. */
      public class Archive extends VerticleBase {
        @Override
        public Future<?> start() {
          return vertx.eventBus().<JsonObject>localConsumer("postern.deliver.archive", m -> {
            DeliveryRequest r = DeliveryRequest.fromJson(m.body());
            Path dir = Path.of(config().getString("directory"));
            vertx.executeBlocking(() -> {
              Files.createDirectories(dir);
              Files.writeString(dir.resolve(r.id() + ".json"), m.body().encode());
              Files.copy(Path.of(r.dataFile()), dir.resolve(r.id() + ".eml"));
              return null;
            }, false).onComplete(done -> {
              JsonArray results = new JsonArray();
              for (String rcpt : r.recipients()) {
                results.add(new JsonObject().put("address", rcpt)
                    .put("status", done.succeeded() ? "delivered" : "deferred")
                    .put("code", done.succeeded() ? 250 : 451)
                    .put("text", done.succeeded() ? "archived" : String.valueOf(done.cause())));
              }
              m.reply(new JsonObject().put("results", results));
            });
          }).completion();
        }
      }
      """;

  private static final String TOKEN_AUTH = """
      package example.plugins;

      import io.vertx.core.Future;
      import io.vertx.core.VerticleBase;
      import io.vertx.core.json.JsonArray;
      import io.vertx.core.json.JsonObject;

      import java.nio.charset.StandardCharsets;
      import java.util.Base64;

      /** SASL XTOKEN in one step: "user:token", where the valid token of a user is config.prefix + user. */
      public class TokenAuth extends VerticleBase {
        @Override
        public Future<?> start() {
          return vertx.eventBus().<JsonObject>localConsumer("postern.auth.plugin.token", m -> {
            String said = new String(Base64.getDecoder().decode(m.body().getString("response", "")),
                StandardCharsets.UTF_8);
            String[] parts = said.split(":", 2);
            boolean ok = parts.length == 2 && parts[1].equals(config().getString("prefix") + parts[0]);
            m.reply(ok ? new JsonObject().put("status", "success").put("authenticated_id", parts[0])
                    .put("auth", new JsonArray().add(parts[0]))
                : new JsonObject().put("status", "failure").put("user", parts[0]).put("reason", "bad token"));
          }).completion();
        }
      }
      """;

  private static final String BROKEN = """
      package example.plugins;

      import io.vertx.core.Future;
      import io.vertx.core.VerticleBase;

      public class Broken extends VerticleBase {
        @Override
        public Future<?> start() {
          throw new IllegalStateException("broken on purpose");
        }
      }
      """;

  private static final String SILENT = """
      package example.plugins;

      import io.vertx.core.Future;
      import io.vertx.core.VerticleBase;

      /** Takes every question and never answers. */
      public class Silent extends VerticleBase {
        @Override
        public Future<?> start() {
          return vertx.eventBus().localConsumer("postern.acl.condition.silent", m -> { }).completion();
        }
      }
      """;

  /** plugin: late; version 1 answers true (deny), version 2 false (the next rule accepts). */
  private static String late(boolean answer) {
    return """
        package example.plugins;

        import io.vertx.core.Future;
        import io.vertx.core.VerticleBase;
        import io.vertx.core.json.JsonObject;

        public class Late extends VerticleBase {
          @Override
          public Future<?> start() {
            return vertx.eventBus().<JsonObject>localConsumer("postern.acl.condition.late",
                m -> m.reply(new JsonObject().put("result", ANSWER))).completion();
          }
        }
        """.replace("ANSWER", String.valueOf(answer));
  }

  private static final String ACL = """
      acl_check_rcpt:
        - deny:   { plugin: "denylist/$local_part", message: "$local_part is on the plugin's list" }
        - deny:   { domains: silent.example, plugin: silent }
        - deny:   { domains: late.example, plugin: late, message: late says no }
        - accept: { domains: "+local_domains : late.example" }
        - accept: { domains: archive.example }
        - deny:   { message: relay not permitted }
      acl_check_expn:
        - deny:
      acl_check_etrn:
        - deny:
      """;

  @BeforeAll
  static void thePackagedServerIsThere() {
    assertTrue(Files.isRegularFile(POSTERN_JAR), POSTERN_JAR + " missing: this test runs after package (failsafe)");
  }

  @Test
  void pluginsFromAJarDecideDeliverFailAloneAndComeAndGoWhileASessionStaysOpen() throws Exception {
    int port = ChildPostern.freePort();
    try (PosternTestServer layout = PosternTestServer.create().acl(ACL)
        .option("listeners", "{ smtp: { address: 127.0.0.1, port: " + port + " } }")
        .option("domainlist", "{ local_domains: \"localhost : @ : test.example\" }")
        .option("routers", "[ { name: local_user, driver: local }, { name: archiver, driver: accept,"
            + " domains: archive.example, transport: archive } ]")
        .option("transports", "{ archive: { driver: plugin, timeout: 30s } }")
        .option("acl_plugin_timeouts", "{ silent: 500ms }")
        .option("authenticators", "{ token: { driver: plugin, public_name: XTOKEN, server_set_id: \"${uc:$auth1}\" } }")) {
      Path root = layout.root();
      Path archive = root.resolve("archived");
      Path plugins = Files.createDirectories(root.resolve("plugins"));
      Path jar = plugins.resolve("test-plugins.jar");
      writeJar(jar, Map.of("DenyList", DENY_LIST, "Archive", ARCHIVE, "Broken", BROKEN, "Silent", SILENT,
          "Late", late(true), "TokenAuth", TOKEN_AUTH));
      Path verticles = root.resolve("verticles.json");
      writeVerticles(verticles, List.of(
          plugin("DenyList", new JsonObject().put("listed", new JsonArray().add("spam").add("junk"))),
          plugin("Archive", new JsonObject().put("directory", archive.toString())),
          plugin("Broken", new JsonObject()),
          plugin("Silent", new JsonObject()),
          plugin("TokenAuth", new JsonObject().put("prefix", "good-"))));
      MainLogFile log = new MainLogFile(root.resolve("log").resolve("mainlog"));

      try (ChildPostern daemon = ChildPostern.daemonJar(root, POSTERN_JAR, layout.writeConfig(), port)) {
        // The one that throws is logged with its name; the server runs without it.
        String broken = log.await(30_000, "plugin example.plugins.Broken (test-plugins.jar) failed to start:");
        assertTrue(broken.contains("broken on purpose"), broken);
        log.await(30_000, "plugin example.plugins.DenyList (test-plugins.jar) deployed");

        try (SmtpTestClient c = session(port)) {
          SmtpTestClient.Reply denied = c.command("RCPT TO:<spam@test.example>");
          assertEquals(550, denied.code(), denied.toString());
          assertTrue(denied.text().contains("spam is on the plugin's list"), denied.toString());
          log.await(10_000, "plugin denylist: denylist matched spam");
          assertEquals(250, c.command("RCPT TO:<alice@test.example>").code());

          long start = System.nanoTime();
          SmtpTestClient.Reply silent = c.command("RCPT TO:<x@silent.example>");
          long millis = (System.nanoTime() - start) / 1_000_000;
          assertEquals(450, silent.code(), silent.toString());
          assertEquals("4.7.1", silent.enhanced(), silent.toString());
          assertTrue(millis < 10_000, "the silent plugin deferred after " + millis + " ms");

          // Not deployed yet: defer, never accept.
          assertEquals(450, c.command("RCPT TO:<x@late.example>").code());
        }

        // Its authenticator logs a user in; server_set_id applies to the id it gives.
        try (SmtpTestClient c = SmtpTestClient.connect(port)) {
          assertEquals(220, c.reply().code());
          SmtpTestClient.Reply ehlo = c.command("EHLO client.example");
          assertTrue(ehlo.lines().contains("AUTH XTOKEN"), ehlo.toString());
          assertEquals(535, c.command("AUTH XTOKEN " + base64("alice:stolen")).code());
          SmtpTestClient.Reply in = c.command("AUTH XTOKEN " + base64("alice:good-alice"));
          assertEquals(235, in.code(), in.toString());
          assertEquals(250, c.command("MAIL FROM:<alice@test.example>").code());
          assertEquals(250, c.command("RCPT TO:<alice@test.example>").code());
          assertEquals(354, c.command("DATA").code());
          SmtpTestClient.Reply done = c.command("Subject: signed in\r\n\r\nhi\r\n.");
          assertEquals(250, done.code(), done.toString());
          String id = done.text().substring(done.text().indexOf("id=") + 3).strip();
          assertTrue(log.await(30_000, id, "<=").contains("A=token:ALICE"), "the arrival names the login");
        }

        // Its transport receives a delivery through the accept router.
        String id = send(port, "archive@archive.example");
        log.await(30_000, id, "=> archive@archive.example R=archiver T=archive", "C=\"archived\"");
        log.await(30_000, id, "Completed");
        String archived = Files.readString(archive.resolve(id + ".eml"), StandardCharsets.ISO_8859_1);
        assertTrue(archived.contains("Subject: to the archive\r\n"), archived);
        assertEquals("archive", new JsonObject(Files.readString(archive.resolve(id + ".json"))).getString("transport"));

        try (SmtpTestClient open = session(port)) {
          // Hot deploy: Late added to verticles.json while this session is open.
          MainLogFile fromNow = log.fromNow();
          writeVerticles(verticles, List.of(
              plugin("DenyList", new JsonObject().put("listed", new JsonArray().add("spam").add("junk"))),
              plugin("Archive", new JsonObject().put("directory", archive.toString())),
              plugin("Broken", new JsonObject()),
              plugin("Silent", new JsonObject()),
              plugin("TokenAuth", new JsonObject().put("prefix", "good-")),
              plugin("Late", new JsonObject())));
          fromNow.await(30_000, "plugin example.plugins.Late (test-plugins.jar) deployed");
          SmtpTestClient.Reply late = open.command("RCPT TO:<x@late.example>");
          assertEquals(550, late.code(), late.toString());
          assertTrue(late.text().contains("late says no"), late.toString());
          assertTrue(fromNow.lines().stream().noneMatch(l -> l.contains("DenyList") || l.contains("TokenAuth")),
              "the unchanged plugins stayed: " + fromNow.lines());

          // Redeploy: a new version of the jar replaces the old one; every plugin of the jar restarts.
          MainLogFile beforeSwap = log.fromNow();
          writeJar(jar, Map.of("DenyList", DENY_LIST, "Archive", ARCHIVE, "Broken", BROKEN, "Silent", SILENT,
              "Late", late(false), "TokenAuth", TOKEN_AUTH));
          beforeSwap.await(30_000, "plugin example.plugins.Late (test-plugins.jar) undeployed");
          beforeSwap.await(30_000, "plugin example.plugins.Late (test-plugins.jar) deployed");
          Await.until("DenyList redeployed", 30_000, () -> beforeSwap.lines().stream()
              .anyMatch(l -> l.contains("plugin example.plugins.DenyList (test-plugins.jar) deployed")));
          assertEquals(250, open.command("RCPT TO:<y@late.example>").code(), "version 2 answers false");
          assertEquals(550, open.command("RCPT TO:<junk@test.example>").code());

          // Undeploy: removed from the list, the condition defers again.
          MainLogFile beforeRemoval = log.fromNow();
          writeVerticles(verticles, List.of(
              plugin("DenyList", new JsonObject().put("listed", new JsonArray().add("spam").add("junk"))),
              plugin("Archive", new JsonObject().put("directory", archive.toString()))));
          beforeRemoval.await(30_000, "plugin example.plugins.Late (test-plugins.jar) undeployed");
          assertEquals(450, open.command("RCPT TO:<z@late.example>").code());
          assertEquals(221, open.command("QUIT").code(), "the session survived every change");
        }
        assertTrue(daemon.process().isAlive(), daemon.diagnostics());
      }
    }
  }

  @Test
  void hostCheckingDeploysThePluginsAndTracesTheirAnswers() throws Exception {
    try (PosternTestServer layout = PosternTestServer.create().acl(ACL)) {
      Path root = layout.root();
      Path plugins = Files.createDirectories(root.resolve("plugins"));
      writeJar(plugins.resolve("test-plugins.jar"), Map.of("DenyList", DENY_LIST));
      writeVerticles(root.resolve("verticles.json"), List.of(
          plugin("DenyList", new JsonObject().put("listed", new JsonArray().add("spam")))));
      ChildPostern.Result r = ChildPostern.runJar(root, POSTERN_JAR, layout.writeConfig(),
          ("EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<spam@test.example>\r\n"
              + "RCPT TO:<alice@test.example>\r\nQUIT\r\n").getBytes(StandardCharsets.US_ASCII), "-bh", "192.0.2.9");
      assertEquals(0, r.exit(), r.toString());
      assertTrue(r.stdout().contains("550") && r.stdout().contains("spam is on the plugin's list"), r.toString());
      assertTrue(r.stderr().contains("plugin denylist answered {\"result\":true"), r.toString());
      assertTrue(r.stderr().contains("plugin denylist answered {\"result\":false"), r.toString());
    }
  }

  private static SmtpTestClient session(int port) throws IOException {
    SmtpTestClient c = SmtpTestClient.connect(port);
    assertEquals(220, c.reply().code());
    assertEquals(250, c.command("EHLO client.example").code());
    assertEquals(250, c.command("MAIL FROM:<sender@example.org>").code());
    return c;
  }

  private static String send(int port, String to) throws IOException {
    try (SmtpTestClient c = session(port)) {
      assertEquals(250, c.command("RCPT TO:<" + to + ">").code());
      assertEquals(354, c.command("DATA").code());
      SmtpTestClient.Reply done = c.command("Subject: to the archive\r\n\r\nkeep this\r\n.");
      assertEquals(250, done.code(), done.toString());
      c.command("QUIT");
      return done.text().substring(done.text().indexOf("id=") + 3).strip();
    }
  }

  private static String base64(String text) {
    return java.util.Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }

  private static JsonObject plugin(String simpleName, JsonObject config) {
    return new JsonObject().put("name", PACKAGE + "." + simpleName).put("config", config);
  }

  /** The shipped verticles.json with the plugin entries after the core ones; written whole, then moved in. */
  private static void writeVerticles(Path file, List<JsonObject> plugins) throws IOException {
    JsonObject list = new JsonObject(Files.readString(Path.of("verticles.json")));
    JsonArray all = list.getJsonArray("verticles").copy();
    plugins.forEach(all::add);
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(tmp, new JsonObject().put("verticles", all).encodePrettily());
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  private static void writeJar(Path jar, Map<String, String> sources) throws IOException {
    PluginJars.write(jar, PACKAGE, sources);
  }
}
