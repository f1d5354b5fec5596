package org.postern.session;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.AsyncMap;
import org.postern.bus.Addresses;
import org.postern.config.AuthSettings;

/**
 * Talks to the authenticators over {@code postern.auth.<MECHANISM>} and keeps the per-address
 * failure counts in Vert.x shared data (an async map, cluster-wide when clustered), so a password
 * guesser is refused across sessions and nodes for a while.
 */
final class AuthClient {
  private static final String FAILURES = "postern.auth.failures";
  private final Vertx vertx;
  private final DeliveryOptions options = new DeliveryOptions().setLocalOnly(true).setSendTimeout(30_000);

  AuthClient(Vertx vertx) {
    this.vertx = vertx;
  }

  /** One step; an authenticator that does not answer counts as a temporary failure. */
  Future<JsonObject> step(String mechanism, JsonObject request) {
    return vertx.eventBus().<JsonObject>request(Addresses.AUTH_PREFIX + mechanism, request, options)
        .map(m -> m.body());
  }

  void cancel(String exchange) {
    vertx.eventBus().send(Addresses.AUTH_PREFIX + "cancel", new JsonObject().put("exchange", exchange), options);
  }

  /** True when this address has failed too often recently. */
  Future<Boolean> blocked(String host, AuthSettings settings) {
    if (settings.failuresPerHost() <= 0 || host.isEmpty()) {
      return Future.succeededFuture(false);
    }
    return map().compose(m -> m.get(host)).map(v -> v != null && v >= settings.failuresPerHost())
        .otherwise(false);
  }

  /** Counts one failure for the address; the count expires {@code auth_failures_window} after the last one. */
  Future<Void> recordFailure(String host, AuthSettings settings) {
    if (settings.failuresPerHost() <= 0 || host.isEmpty()) {
      return Future.succeededFuture();
    }
    long ttl = settings.failuresWindow().toMillis();
    return map().compose(m -> m.get(host).compose(v -> m.put(host, v == null ? 1 : v + 1, ttl)))
        .otherwiseEmpty();
  }

  private Future<AsyncMap<String, Integer>> map() {
    return vertx.sharedData().getAsyncMap(FAILURES);
  }
}
