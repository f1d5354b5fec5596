package org.postern.plugins.greylist;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import org.postern.bus.Addresses;
import org.postern.config.ConfigHolder;
import org.postern.net.Cidr;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;

/**
 * The bundled greylisting plugin (off by default): serves the ACL condition {@code plugin: greylist}
 * on {@code postern.acl.condition.greylist}, true when the recipient is to be deferred for now. It
 * is deployed by one {@code verticles.json} entry, options in its {@code config}
 * ({@link GreylistSettings}):
 * <pre>{ "name": "org.postern.plugins.greylist.GreylistVerticle", "config": { "delay": "5m" } }</pre>
 * Authenticated clients, local submission and {@code relay_from_hosts} are never greylisted. When
 * the shared data cannot be read the condition defers, so the rule's 4xx stands and no mail is
 * let through by a failure.
 */
public final class GreylistVerticle extends VerticleBase {
  /** The condition's name in ACLs. */
  public static final String NAME = "greylist";
  private static final Logger LOG = LoggerFactory.getLogger(GreylistVerticle.class);

  private final Clock clock;
  private Greylist greylist;
  private GreylistSettings settings;
  private ConfigHolder postern;

  public GreylistVerticle() {
    this(Clock.systemUTC());
  }

  /** @param clock the time the delays are measured in; tests pass one they move */
  public GreylistVerticle(Clock clock) {
    this.clock = clock;
  }

  @Override
  public Future<?> start() {
    try {
      settings = GreylistSettings.from(config());
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    greylist = new Greylist(vertx, settings, clock);
    postern = ConfigHolder.of(vertx);
    return vertx.eventBus().<JsonObject>localConsumer(Addresses.ACL_CONDITION_PREFIX + NAME, this::check).completion();
  }

  private void check(Message<JsonObject> msg) {
    JsonObject vars = msg.body() == null ? null : msg.body().getJsonObject("variables");
    if (vars == null) {
      msg.reply(result("defer"));
      return;
    }
    String host = vars.getString("sender_host_address", "");
    if (exempt(vars, host)) {
      msg.reply(result(false));
      return;
    }
    Cidr network = Cidr.around(host, settings.ipv4Prefix(), settings.ipv6Prefix());
    String recipient = vars.getString("recipient");
    String sender = vars.getString("sender_address");
    if (network == null || recipient == null || sender == null) {
      // Not at RCPT, or no usable client address: nothing to key a triplet on.
      msg.reply(result("defer"));
      return;
    }
    greylist.greylisted(network.toString(), sender, recipient).onComplete(r -> {
      if (r.failed()) {
        LOG.warn("greylist: shared data failed, deferring: {}", r.cause().toString());
        msg.reply(result("defer"));
      } else {
        msg.reply(result(r.result()));
      }
    });
  }

  /** Postgrey's and Exim users' usual exemptions: authenticated clients, local submission, relay hosts. */
  private boolean exempt(JsonObject vars, String host) {
    if (vars.getString("authenticated_id") != null || host.isEmpty()) {
      return true;
    }
    return postern.isLoaded() && postern.current().relayFromHosts().matches(host, vars.getString("sender_host_name"));
  }

  private static JsonObject result(Object value) {
    return new JsonObject().put("result", value);
  }
}
