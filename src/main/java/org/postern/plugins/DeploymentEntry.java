package org.postern.plugins;

import io.netty.util.concurrent.EventExecutor;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonObject;

import java.nio.file.Path;

/**
 * One entry of {@code verticles.json}: {@code {"name": "class", "instances": 2 | "auto",
 * "config": {...}}}. Every verticle also gets {@code config_file} in its config. {@code "auto"} is
 * one instance per event loop: Vert.x hands consecutive instances consecutive event loops, so that
 * many cover every loop, which is what lets a connection find listener, session and ACL instances
 * on its own loop.
 *
 * @param name      the verticle's class name
 * @param instances a number, or {@code "auto"}
 * @param config    the verticle's config, as written
 */
public record DeploymentEntry(String name, Object instances, JsonObject config) {
  public DeploymentEntry {
    config = config == null ? new JsonObject() : config;
  }

  public static DeploymentEntry fromJson(JsonObject entry) {
    return new DeploymentEntry(entry.getString("name"), entry.getValue("instances", 1),
        entry.getJsonObject("config", new JsonObject()));
  }

  /** Its deployment options: the instances and the config with {@code config_file}. */
  public DeploymentOptions options(Vertx vertx, Path configFile) {
    int count = "auto".equals(instances) ? eventLoops(vertx) : ((Number) instances).intValue();
    return new DeploymentOptions().setInstances(count)
        .setConfig(config.copy().put("config_file", configFile.toString()));
  }

  /** The size of the event-loop pool ({@code VertxOptions.eventLoopPoolSize}, by default twice the cores). */
  static int eventLoops(Vertx vertx) {
    int n = 0;
    for (EventExecutor ignored : ((VertxInternal) vertx).nettyEventLoopGroup()) {
      n++;
    }
    return n;
  }
}
