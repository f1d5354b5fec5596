package org.postern.plugins;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import org.postern.bus.Addresses;
import org.postern.cluster.ClusterNode;
import org.postern.config.ClusterSettings;
import org.postern.config.ConfigHolder;
import org.postern.cli.VerticleDeployer;
import org.postern.config.ConfigLoader;
import org.postern.testing.ChildPostern;
import org.postern.testing.MainLogFile;
import org.postern.testing.PluginJars;
import org.postern.testing.PosternTestServer;
import org.postern.testing.PublishedEvents;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link PluginPresence}: started as the daemon starts (the core verticles and the plugins of a real
 * {@code verticles.json}, a real configuration, a plugin jar compiled now), it reports each plugin
 * address the configuration names and nobody serves once, after the plugins are deployed, and again
 * after configuration and plugin changes; a probe never reaches the plugin.
 */
@Timeout(60)
class PluginPresenceTest {
  private static final String PACKAGE = "example.presence";
  private static final String GREYLIST = PACKAGE + ".Greylist";
  /** Serves postern.acl.condition.greylist; answers false with how many requests it has seen. */
  private static final String GREYLIST_SOURCE = """
      package example.presence;

      import io.vertx.core.Future;
      import io.vertx.core.VerticleBase;
      import io.vertx.core.json.JsonObject;

      public class Greylist extends VerticleBase {
        private int seen;

        @Override
        public Future<?> start() {
          return vertx.eventBus().<Object>localConsumer("postern.acl.condition.greylist",
              m -> m.reply(new JsonObject().put("result", false).put("log_message", "seen " + (++seen)))).completion();
        }
      }
      """;
  private static final String ACL = """
      acl_check_rcpt:
        - deny: { plugin: greylist }
        - accept: { domains: +local_domains }
      """;

  private final Vertx vertx = Vertx.vertx();
  private PluginDeployments plugins;

  @AfterEach
  void close() throws Exception {
    if (plugins != null) {
      await(plugins.close());
    }
    await(vertx.close());
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  /** A configuration in a fresh directory, with a plugin jar holding {@link #GREYLIST} beside it. */
  private static PosternTestServer configuration(String acl) throws Exception {
    PosternTestServer server = PosternTestServer.create().acl(acl)
        .withoutOption("acl_smtp_expn").withoutOption("acl_smtp_etrn")
        .option("transports", "{ archive: { driver: plugin } }")
        .option("authenticators", "{ xoauth2: { driver: plugin, public_name: XOAUTH2 } }");
    server.writeConfig();
    Path jars = Files.createDirectories(server.root().resolve("plugins"));
    PluginJars.write(jars.resolve("greylist.jar"), PACKAGE, Map.of("Greylist", GREYLIST_SOURCE));
    return server;
  }

  private static void writeVerticles(Path file, boolean withGreylist) throws Exception {
    JsonArray list = new JsonArray().add(new JsonObject().put("name", "org.postern.config.ConfigVerticle")
        .put("config", new JsonObject().put("scan_period_ms", 100)));
    if (withGreylist) {
      list.add(new JsonObject().put("name", GREYLIST));
    }
    Files.writeString(file, new JsonObject().put("verticles", list).encodePrettily());
  }

  /** As the daemon does: the list's verticles (the core ones by {@code include}), then the watcher. */
  private void startDaemon(PosternTestServer server, Path verticles) throws Exception {
    Path configFile = server.confDir().resolve("postern.yaml");
    plugins = new PluginDeployments(vertx, server.root().resolve("plugins"), configFile);
    await(VerticleDeployer.deploy(vertx, VerticleDeployer.read(verticles), configFile,
        name -> name.endsWith(".ConfigVerticle"), Map.of(), plugins));
    plugins.watch(verticles, 50);
  }

  private static String missing(String address) {
    return "no plugin is deployed on " + address + ";";
  }

  @Test
  void anUnservedPluginIsReportedOnceAfterStartNotAfterItIsDeployedAndANewOneAtTheNextChange() throws Exception {
    PosternTestServer server = configuration(ACL);
    Path verticles = server.root().resolve("verticles.json");
    writeVerticles(verticles, false);
    MainLogFile log = MainLogFile.ofTestJvm().fromNow();
    try (PublishedEvents checks = PublishedEvents.on(vertx, Addresses.PLUGINS_CHECKED)) {
      startDaemon(server, verticles);
      String aclFile = ConfigLoader.display(server.confDir().resolve("acl.yaml"));
      String line = log.await(10_000, missing("postern.acl.condition.greylist"));
      assertTrue(line.endsWith("ACL condition \"plugin: greylist\" in acl_check_rcpt (" + aclFile + ":2): no plugin is"
          + " deployed on postern.acl.condition.greylist; the condition defers"), line);
      line = log.await(10_000, missing("postern.deliver.archive"));
      assertTrue(line.endsWith("transport \"archive\" (driver: plugin): no plugin is deployed on"
          + " postern.deliver.archive; its deliveries are deferred"), line);
      line = log.await(10_000, missing("postern.auth.plugin.xoauth2"));
      assertTrue(line.endsWith("authenticator \"xoauth2\" (driver: plugin, XOAUTH2): no plugin is deployed on"
          + " postern.auth.plugin.xoauth2; AUTH XOAUTH2 fails with 454 4.7.0"), line);
      assertEquals(new JsonArray().add("postern.acl.condition.greylist").add("postern.deliver.archive")
          .add("postern.auth.plugin.xoauth2"), checks.awaitNth(1, 10_000).getJsonArray("missing"));

      // Hot deploy: the plugins' change is checked, and greylist is served now.
      writeVerticles(verticles, true);
      JsonObject afterDeploy = checks.awaitNth(2, 10_000);
      assertEquals(new JsonArray().add("postern.deliver.archive").add("postern.auth.plugin.xoauth2"),
          afterDeploy.getJsonArray("missing"));

      // A configuration change naming a new unserved plugin: that one is reported, the served one is not,
      // and those still unserved are not repeated.
      Files.writeString(server.confDir().resolve("acl.yaml"), ACL + """
            - warn: { plugin: spamcheck }
          """);
      JsonObject afterChange = checks.await(10_000,
          c -> c.getJsonArray("missing").contains("postern.acl.condition.spamcheck"));
      assertEquals(new JsonArray().add("postern.acl.condition.spamcheck").add("postern.deliver.archive")
          .add("postern.auth.plugin.xoauth2"), afterChange.getJsonArray("missing"));
      log.await(10_000, "ACL condition \"plugin: spamcheck\" in acl_check_rcpt (" + aclFile + ":4): no plugin is"
          + " deployed on postern.acl.condition.spamcheck; the condition defers");
      assertEquals(1, log.lines(missing("postern.acl.condition.greylist")).size(), log.lines().toString());
      assertEquals(1, log.lines(missing("postern.deliver.archive")).size(), log.lines().toString());
      assertEquals(1, log.lines(missing("postern.auth.plugin.xoauth2")).size(), log.lines().toString());

      // The probes never reached the plugin: this request is the first it sees.
      JsonObject reply = await(vertx.eventBus().<JsonObject>request("postern.acl.condition.greylist",
          new JsonObject())).body();
      assertEquals("seen 1", reply.getString("log_message"));
    }
  }

  @Test
  void aPluginDeployedFromTheSameVerticlesJsonIsNotReportedAtStart() throws Exception {
    PosternTestServer server = configuration(ACL);
    Path verticles = server.root().resolve("verticles.json");
    writeVerticles(verticles, true);
    MainLogFile log = MainLogFile.ofTestJvm().fromNow();
    try (PublishedEvents checks = PublishedEvents.on(vertx, Addresses.PLUGINS_CHECKED)) {
      startDaemon(server, verticles);
      assertEquals(new JsonArray().add("postern.deliver.archive").add("postern.auth.plugin.xoauth2"),
          checks.awaitNth(1, 10_000).getJsonArray("missing"));
      log.await(10_000, missing("postern.deliver.archive"));
      assertEquals(0, log.lines(missing("postern.acl.condition.greylist")).size(), log.lines().toString());
    }
  }

  /**
   * Clustered (Hazelcast, with Postern's node-local registrations), a request to an address nobody
   * serves still fails at once with NO_HANDLERS, so the probe tells served from unserved there too,
   * and the probe still never reaches the plugin.
   */
  @Test
  void theProbeWorksOnAClusteredEventBus() throws Exception {
    PosternTestServer server = configuration(ACL);
    int port = ChildPostern.freePort();
    ClusterNode node = await(ClusterNode.join(new ClusterSettings("presence-" + port, "127.0.0.1", port,
        List.of(new ClusterSettings.Member("127.0.0.1", port))), false));
    Vertx clustered = node.vertx();
    try (PublishedEvents checks = PublishedEvents.on(clustered, Addresses.PLUGINS_CHECKED)) {
      ConfigHolder.of(clustered).set(ConfigLoader.load(server.confDir().resolve("postern.yaml")));
      List<Object> received = new CopyOnWriteArrayList<>();
      await(clustered.eventBus().localConsumer("postern.acl.condition.greylist", m -> {
        received.add(m.body());
        m.reply("plugin");
      }).completion());
      await(PluginPresence.watch(clustered));
      assertEquals(new JsonArray().add("postern.deliver.archive").add("postern.auth.plugin.xoauth2"),
          checks.awaitNth(1, 10_000).getJsonArray("missing"));
      assertEquals("plugin", await(clustered.eventBus().request("postern.acl.condition.greylist", "asked")).body());
      assertEquals(List.of("asked"), received);
      ExecutionException unserved = assertThrows(ExecutionException.class, () -> await(clustered.eventBus()
          .request("postern.deliver.archive", "asked", new DeliveryOptions().setSendTimeout(20_000))));
      assertEquals(ReplyFailure.NO_HANDLERS, ((ReplyException) unserved.getCause()).failureType());
    } finally {
      await(node.leave());
    }
  }
}
