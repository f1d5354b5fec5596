package org.postern.admin;

import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.Status;
import io.vertx.ext.web.healthchecks.HealthCheckHandler;
import org.postern.config.ConfigHolder;
import org.postern.config.ListenerConfig;
import org.postern.config.PosternConfig;
import org.postern.listener.ListenerVerticle;
import org.postern.spool.Spool;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * {@code GET /ready} ({@code vertx-health-check}): 200 {@code UP} when the configuration is
 * loaded, every configured SMTP listener is bound and the spool's input directory takes a new file,
 * else 503 {@code DOWN} with the failing check named. The spool is probed by creating and removing
 * a file (on a worker thread), since permissions alone say nothing to root or about a read-only mount.
 */
final class Readiness {
  private static final String PROBE = ".ready-probe-";

  private Readiness() {
  }

  static HealthCheckHandler handler(Vertx vertx, ConfigHolder config) {
    HealthCheckHandler handler = HealthCheckHandler.create(vertx);
    handler.register("config", p -> p.complete(config.isLoaded() ? Status.OK() : Status.KO()));
    handler.register("listeners", p -> listeners(vertx, config, p));
    handler.register("spool", p -> spool(vertx, config, p));
    return handler;
  }

  private static void listeners(Vertx vertx, ConfigHolder config, Promise<Status> p) {
    if (!config.isLoaded()) {
      p.complete(Status.KO());
      return;
    }
    Map<String, Integer> bound = vertx.sharedData().getLocalMap(ListenerVerticle.PORTS);
    List<String> missing = config.current().listeners().stream().map(ListenerConfig::name)
        .filter(name -> !bound.containsKey(name)).toList();
    p.complete(missing.isEmpty() ? Status.OK() : Status.KO(new JsonObject().put("not_bound", missing)));
  }

  private static void spool(Vertx vertx, ConfigHolder config, Promise<Status> p) {
    if (!config.isLoaded()) {
      p.complete(Status.KO());
      return;
    }
    PosternConfig c = config.current();
    Path input = new Spool(c.spoolDirectory()).inputDirectory();
    vertx.executeBlocking(() -> {
      Path probe = Files.createTempFile(input, PROBE, null);
      Files.delete(probe);
      return Status.OK();
    }, false).otherwise(e -> Status.KO(new JsonObject().put("error", "spool not writable: " + e)))
        .onComplete(r -> p.complete(r.result()));
  }
}
