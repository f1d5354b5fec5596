package org.postern.admin;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;
import org.postern.bus.Addresses;
import org.postern.config.AdminSettings;
import org.postern.config.ConfigHolder;
import org.postern.config.PosternConfig;
import org.postern.metrics.NodeMeters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin HTTP API and status page ({@code vertx-web}), off unless {@code admin_listener} is
 * configured: {@code GET /health}, {@code /ready}, {@code /config}, {@code POST /config/reload},
 * the queue ({@link QueueApi}), {@code GET /sessions} ({@link SessionsApi}), {@code GET /metrics}
 * ({@link NodeMeters}, this node's meters),
 * {@code GET /log/recent} ({@link RecentDeliveries}) and the page at {@code /}; access as
 * {@link AdminAccess} says. It follows the configuration in force: a changed {@code admin_listener}
 * rebinds, a changed {@code admin_token_file} applies to the next request. The bound port is in
 * the local map {@link #PORT} (for tests that bind port 0).
 */
public final class AdminVerticle extends VerticleBase {
  /** Local map (key {@code port}) holding the port the admin listener is bound to. */
  public static final String PORT = "postern.admin.port";
  private static final Logger LOG = LoggerFactory.getLogger(AdminVerticle.class);

  private ConfigHolder config;
  private HttpServer server;
  private AdminSettings bound = AdminSettings.OFF;
  private JsonObject lastRefusal;

  @Override
  public Future<?> start() {
    config = ConfigHolder.of(vertx);
    vertx.eventBus().<JsonObject>consumer(Addresses.CONFIG_REFUSED, m -> lastRefusal =
        new JsonObject().put("error", m.body().getString("error")).put("at", System.currentTimeMillis()));
    vertx.eventBus().<JsonObject>consumer(Addresses.CONFIG_CHANGED, m -> {
      AdminSettings now = config.current().admin();
      if (!sameListener(now, bound)) {
        rebind(now).onFailure(e -> LOG.error("admin listener not moved to {}:{}: {}", now.address(), now.port(),
            e.getMessage()));
      }
    });
    return rebind(config.current().admin());
  }

  private static boolean sameListener(AdminSettings a, AdminSettings b) {
    return a.enabled() == b.enabled() && java.util.Objects.equals(a.address(), b.address()) && a.port() == b.port();
  }

  private Future<?> rebind(AdminSettings settings) {
    Future<Void> closed = server == null ? Future.succeededFuture() : server.close();
    server = null;
    bound = settings;
    vertx.sharedData().getLocalMap(PORT).remove("port");
    if (!settings.enabled()) {
      return closed;
    }
    if (settings.tokenFile() == null) {
      LOG.warn("admin listener on {}:{} has no admin_token_file: only loopback clients are served",
          settings.address(), settings.port());
    }
    HttpServer created = vertx.createHttpServer().requestHandler(router());
    return closed.compose(v -> created.listen(settings.port(), settings.address())).onSuccess(s -> {
      server = s;
      vertx.sharedData().<String, Integer>getLocalMap(PORT).put("port", s.actualPort());
      LOG.info("admin listener on {}:{}", settings.address(), s.actualPort());
    });
  }

  private Router router() {
    Router router = Router.router(vertx);
    router.route().handler(new AdminAccess(vertx, () -> config.current().admin()));
    router.get("/health").handler(ctx -> AdminJson.ok(ctx, new JsonObject().put("status", "UP")));
    router.get("/ready").handler(Readiness.handler(vertx, config));
    router.get("/config").handler(this::showConfig);
    router.post("/config/reload").handler(this::reload);
    new QueueApi(vertx, config).mount(router);
    router.get("/sessions").handler(new SessionsApi(vertx)::handle);
    router.get("/metrics").handler(this::metrics);
    router.get("/log/recent").handler(new RecentDeliveries(vertx)::handle);
    router.get("/*").handler(StaticHandler.create("admin").setCachingEnabled(false));
    return router;
  }

  /** Prometheus text format; the token rules are those of every other endpoint ({@link AdminAccess}). */
  private void metrics(RoutingContext ctx) {
    NodeMeters.of(vertx).scrape()
        .onSuccess(text -> ctx.response().putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            .end(text))
        .onFailure(e -> AdminJson.error(ctx, 500, "cannot read the queue: " + e.getMessage()));
  }

  private void showConfig(RoutingContext ctx) {
    PosternConfig c = config.current();
    AdminJson.ok(ctx, new JsonObject().put("generation", c.generation()).put("config_file", c.configFile().toString())
        .put("loaded_at", config.loadedAt() == null ? null : config.loadedAt().toEpochMilli())
        .put("last_refusal", lastRefusal));
  }

  /** As SIGHUP: every node re-reads its files; a refusal keeps the generation in force and says why. */
  private void reload(RoutingContext ctx) {
    vertx.eventBus().<JsonObject>request(Addresses.CONFIG_RELOAD, new JsonObject())
        .onSuccess(reply -> AdminJson.ok(ctx, new JsonObject().put("generation", reply.body().getString("generation"))))
        .onFailure(e -> AdminJson.error(ctx, 422, e.getMessage()));
  }
}
