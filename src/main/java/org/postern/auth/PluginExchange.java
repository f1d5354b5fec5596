package org.postern.auth;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import org.postern.bus.AuthReply;
import org.postern.bus.AuthStep;
import org.postern.bus.UnansweredRequest;
import org.postern.config.AuthenticatorConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A mechanism served by a plugin ({@code driver: plugin}): each step goes to the authenticator's
 * {@code address} as the {@link AuthStep} JSON, and the plugin's {@link AuthReply} JSON comes back,
 * under a reservation in the failure windows as every credentials check is. A plugin that is not
 * deployed, fails, answers nonsense or does not answer within the authenticator's {@code timeout}
 * ends the exchange with a temporary failure ({@code 454 4.7.0}), not counted: it says nothing
 * about the client's credentials.
 */
final class PluginExchange implements SaslExchange {
  private static final Logger LOG = LoggerFactory.getLogger(PluginExchange.class);

  private final Vertx vertx;
  private final AuthenticatorConfig authenticator;
  private final FailureWindowGate gate;
  private final AuthStep opening;
  private boolean first = true;

  /** @param opening the exchange's first step: its id, generation and variables go with every step */
  PluginExchange(Vertx vertx, AuthenticatorConfig authenticator, FailureWindowGate gate, AuthStep opening) {
    this.vertx = vertx;
    this.authenticator = authenticator;
    this.gate = gate;
    this.opening = opening;
  }

  @Override
  public Future<AuthReply> step(byte[] response) {
    AuthStep step = new AuthStep(opening.exchange(), authenticator.publicName(), first, response,
        opening.generation(), opening.variables());
    first = false;
    DeliveryOptions options = new DeliveryOptions().setLocalOnly(true)
        .setSendTimeout(authenticator.timeout().toMillis());
    return gate.check(null, () -> vertx.eventBus().request(authenticator.address(), step.toJson(), options)
        .map(m -> {
          if (!(m.body() instanceof JsonObject json)) {
            throw new IllegalArgumentException("the plugin answered " + (m.body() == null ? "nothing" : "not JSON"));
          }
          return AuthReply.fromJson(json);
        })
        .recover(e -> {
          String why = UnansweredRequest.describe(e, authenticator.address(), authenticator.timeout().toMillis());
          LOG.warn("{} authenticator: {}", authenticator.name(), why);
          return Future.succeededFuture(AuthReply.temporaryFailure(why));
        }));
  }
}
