package org.postern.session;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import org.postern.bus.Addresses;
import org.postern.bus.AuthCancel;
import org.postern.bus.AuthReply;
import org.postern.bus.AuthStep;

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
  Future<AuthReply> step(AuthStep step) {
    return vertx.eventBus().<AuthReply>request(Addresses.AUTH_PREFIX + step.mechanism(), step, options)
        .map(m -> m.body());
  }

  /** Tells whichever authenticator holds the exchange to forget it. */
  void cancel(String exchange) {
    vertx.eventBus().publish(Addresses.AUTH_CANCEL, new AuthCancel(exchange), options);
  }
}
