package org.postern.session;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import org.postern.bus.Addresses;

/**
 * Talks to the authenticators over {@code postern.auth.<MECHANISM>}. The failure windows that
 * refuse a password guesser across sessions and nodes live with the authenticators
 * ({@code auth.AuthFailureWindows}), where the password is checked.
 */
final class AuthClient {
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
}
