package org.postern.cli;

import io.vertx.core.Deployable;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.postern.plugins.DeploymentEntry;
import org.postern.plugins.PluginDeployments;
import org.postern.plugins.PluginPresence;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Deploys what {@code verticles.json} lists, in order, each after the previous one started: first
 * Postern's own (core) verticles, which stay for the life of the process, and, at their place in
 * the list, the plugin verticles, which {@link PluginDeployments} deploys from
 * {@code plugin_directory} and keeps in step with the list and the jars. Entries:
 * {@link DeploymentEntry}.
 */
public final class VerticleDeployer {
  /** Local map of deployment order (0, 1, ...) to deployment id, for {@link #undeploy}. */
  private static final String DEPLOYED = "postern.deployments";

  private VerticleDeployer() {
  }

  /** Reads {@code verticles.json} from the given file, or the copy inside the jar when it is absent. */
  public static JsonArray read(Path file) throws IOException {
    String text;
    if (file != null && Files.exists(file)) {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } else {
      try (InputStream in = VerticleDeployer.class.getResourceAsStream("/verticles.json")) {
        if (in == null) {
          throw new IOException("verticles.json not found");
        }
        text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
    }
    return new JsonObject(text).getJsonArray("verticles");
  }

  /** Deploys the matching entries in order; fails on the first verticle that does not start. */
  public static Future<Void> deploy(Vertx vertx, JsonArray verticles, Path configFile, Predicate<String> include) {
    return deploy(vertx, verticles, configFile, include, Map.of(), null);
  }

  /**
   * As {@link #deploy(Vertx, JsonArray, Path, Predicate)}, but an entry whose name is a key of
   * {@code suppliers} is deployed from that supplier instead of by class name, with the same
   * options: how an embedding program (or a test) gives a verticle what its class name cannot,
   * such as a clock.
   */
  public static Future<Void> deploy(Vertx vertx, JsonArray verticles, Path configFile, Predicate<String> include,
                                    Map<String, Supplier<? extends Deployable>> suppliers) {
    return deploy(vertx, verticles, configFile, include, suppliers, null);
  }

  /**
   * As above; with {@code plugins}, the plugin entries ({@link PluginDeployments#isPlugin}) are
   * deployed through it, whatever {@code include} says, and one that does not start is logged and
   * left out instead of failing the deployment, and once all are deployed {@link PluginPresence} reports
   * the plugin addresses the configuration names that nobody serves (and does again after each
   * configuration or plugin change). Without, every entry is deployed as a core verticle.
   */
  public static Future<Void> deploy(Vertx vertx, JsonArray verticles, Path configFile, Predicate<String> include,
                                    Map<String, Supplier<? extends Deployable>> suppliers, PluginDeployments plugins) {
    Future<Void> chain = Future.succeededFuture();
    List<DeploymentEntry> pluginsSoFar = new ArrayList<>();
    for (int i = 0; i < verticles.size(); i++) {
      DeploymentEntry entry = DeploymentEntry.fromJson(verticles.getJsonObject(i));
      String name = entry.name();
      if (plugins != null && PluginDeployments.isPlugin(name)) {
        pluginsSoFar.add(entry);
        List<DeploymentEntry> upToHere = List.copyOf(pluginsSoFar);
        chain = chain.compose(v -> plugins.apply(upToHere));
        continue;
      }
      if (!include.test(name)) {
        continue;
      }
      Supplier<? extends Deployable> supplier = suppliers.get(name);
      chain = chain.compose(v -> {
        DeploymentOptions options = entry.options(vertx, configFile);
        return (supplier == null ? vertx.deployVerticle(name, options) : vertx.deployVerticle(supplier, options))
            .recover(e -> Future.failedFuture(new IllegalStateException("cannot deploy " + name + ": " + e.getMessage(),
                e)))
            .map(id -> {
              var deployed = vertx.sharedData().<Integer, String>getLocalMap(DEPLOYED);
              deployed.put(deployed.size(), id);
              return null;
            });
      });
    }
    return plugins == null ? chain : chain.compose(v -> PluginPresence.watch(vertx));
  }

  /**
   * Undeploys what {@link #deploy} deployed, last first, each after the previous one stopped: the
   * listeners say 421 and tell their sessions (which run the notquit ACL) while the session and ACL
   * verticles are still there. {@code Vertx.close()} alone stops them all at once.
   */
  public static Future<Void> undeploy(Vertx vertx) {
    var deployed = vertx.sharedData().<Integer, String>getLocalMap(DEPLOYED);
    Future<Void> chain = Future.succeededFuture();
    for (int i = deployed.size() - 1; i >= 0; i--) {
      String id = deployed.remove(i);
      if (id != null) {
        // One that failed to stop must not keep the others running.
        chain = chain.compose(v -> vertx.undeploy(id).otherwiseEmpty());
      }
    }
    return chain;
  }
}
