package org.postern.plugins;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.postern.bus.Addresses;
import org.postern.testing.MainLogFile;
import org.postern.testing.PluginJars;
import org.postern.testing.PublishedEvents;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link PluginDeployments}: plugin verticles from jars, each jar in its own class loader, kept in
 * step with the entries and the jars; a plugin that throws at start is logged and left out.
 */
@Timeout(60)
class PluginDeploymentsTest {
  private static final String PACKAGE = "example.deployments";

  /** Answers on test.echo with its version, its config's answer and the name of its class loader. */
  private static String echo(String version) {
    return """
        package example.deployments;

        import io.vertx.core.Future;
        import io.vertx.core.VerticleBase;

        public class Echo extends VerticleBase {
          @Override
          public Future<?> start() {
            return vertx.eventBus().localConsumer("test.echo", m -> m.reply("VERSION:" + config().getValue("answer")
                + ":" + getClass().getClassLoader().getName() + ":" + config().getString("config_file"))).completion();
          }
        }
        """.replace("VERSION", version);
  }

  private static final String BROKEN = """
      package example.deployments;

      public class Broken extends io.vertx.core.VerticleBase {
        @Override
        public io.vertx.core.Future<?> start() {
          throw new IllegalStateException("broken on purpose");
        }
      }
      """;

  @TempDir
  Path dir;
  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private String ask() throws Exception {
    return await(vertx.eventBus().<String>request("test.echo", "")).body();
  }

  private static DeploymentEntry entry(String simpleName, JsonObject config) {
    return new DeploymentEntry(PACKAGE + "." + simpleName, 1, config);
  }

  @Test
  void pluginsComeFromTheirJarAreRedeployedWhenEntryOrJarChangesAndGoWhenRemoved() throws Exception {
    Path plugins = Files.createDirectories(dir.resolve("plugins"));
    Path jar = PluginJars.write(plugins.resolve("echo.jar"), PACKAGE, Map.of("Echo", echo("v1"), "Broken", BROKEN));
    Path configFile = dir.resolve("conf").resolve("postern.yaml");
    PluginDeployments deployments = new PluginDeployments(vertx, plugins, configFile);
    MainLogFile log = MainLogFile.ofTestJvm().fromNow();
    try (PublishedEvents changes = PublishedEvents.on(vertx, Addresses.PLUGINS_CHANGED)) {
      await(deployments.apply(List.of(entry("Echo", new JsonObject().put("answer", 1)),
          entry("Broken", new JsonObject()))));
      assertEquals("v1:1:plugin echo.jar:" + configFile, ask());
      String broken = log.await(10_000, "plugin example.deployments.Broken (echo.jar) failed to start:");
      assertTrue(broken.contains("broken on purpose"), broken);
      JsonObject first = changes.awaitNth(1, 10_000);
      assertEquals(new JsonArray().add(PACKAGE + ".Echo"), first.getJsonArray("deployed"));
      assertEquals(new JsonArray().add(PACKAGE + ".Broken"), first.getJsonArray("failed"));

      // The same list again changes nothing: no event, the failed one is not retried.
      await(deployments.apply(List.of(entry("Echo", new JsonObject().put("answer", 1)),
          entry("Broken", new JsonObject()))));
      assertEquals(1, changes.seen().size(), changes.seen().toString());

      // A changed entry is redeployed: one consumer, with the new config.
      await(deployments.apply(List.of(entry("Echo", new JsonObject().put("answer", 2)),
          entry("Broken", new JsonObject()))));
      for (int i = 0; i < 4; i++) {
        assertEquals("v1:2:plugin echo.jar:" + configFile, ask());
      }

      // A new jar: new classes from a new loader.
      PluginJars.write(jar, PACKAGE, Map.of("Echo", echo("v2"), "Broken", BROKEN));
      await(deployments.apply(List.of(entry("Echo", new JsonObject().put("answer", 2)))));
      assertEquals("v2:2:plugin echo.jar:" + configFile, ask());

      await(deployments.apply(List.of()));
      ExecutionException gone = assertThrows(ExecutionException.class, this::ask);
      assertEquals(ReplyFailure.NO_HANDLERS, ((ReplyException) gone.getCause()).failureType());
      log.await(10_000, "plugin example.deployments.Echo (echo.jar) undeployed");
    }
  }

  @Test
  void theWatcherAppliesAnEditedListAndRefusesABrokenOne() throws Exception {
    Path plugins = Files.createDirectories(dir.resolve("plugins"));
    PluginJars.write(plugins.resolve("echo.jar"), PACKAGE, Map.of("Echo", echo("w")));
    Path list = dir.resolve("verticles.json");
    Files.writeString(list, "{\"verticles\": [{\"name\": \"org.postern.queue.QueueVerticle\"}]}");
    PluginDeployments deployments = new PluginDeployments(vertx, plugins, dir.resolve("postern.yaml"));
    try (PublishedEvents changes = PublishedEvents.on(vertx, Addresses.PLUGINS_CHANGED)) {
      deployments.watch(list, 50);
      MainLogFile log = MainLogFile.ofTestJvm().fromNow();
      Files.writeString(list, "{\"verticles\": [{\"name\": \"org.postern.queue.QueueVerticle\"},"
          + " {\"name\": \"" + PACKAGE + ".Echo\", \"config\": {\"answer\": 7}}]}");
      assertEquals(new JsonArray().add(PACKAGE + ".Echo"), changes.awaitNth(1, 10_000).getJsonArray("deployed"));
      assertTrue(ask().startsWith("w:7:"));

      Files.writeString(list, "{\"verticles\": [");
      log.await(10_000, "plugins: " + list + " refused, the running plugins stay");
      assertTrue(ask().startsWith("w:7:"));
      await(deployments.close());
    }
  }

  @Test
  void pluginsAreTheClassesOutsidePosternAndTheBundledOnes() {
    assertTrue(PluginDeployments.isPlugin("com.example.Spam"));
    assertTrue(PluginDeployments.isPlugin("org.postern.plugins.greylist.GreylistVerticle"));
    assertFalse(PluginDeployments.isPlugin("org.postern.queue.QueueVerticle"));
    assertFalse(PluginDeployments.isPlugin("org.postern.testing.RecordingQueueFlushVerticle"));
  }
}
