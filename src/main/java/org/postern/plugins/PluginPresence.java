package org.postern.plugins;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import org.postern.bus.Addresses;
import org.postern.bus.PluginPresenceCheck;
import org.postern.config.AuthenticatorConfig;
import org.postern.config.ConfigHolder;
import org.postern.config.ConfigLoader;
import org.postern.config.PluginTransportOptions;
import org.postern.config.PosternConfig;
import org.postern.log.MainLog;
import org.postern.policy.Acl;
import org.postern.policy.AclCondition;
import org.postern.policy.AclRule;
import org.postern.policy.NegatedCondition;
import org.postern.policy.PluginCondition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Tells the administrator, in the main log and on stderr, which plugin addresses the configuration
 * names (ACL {@code plugin:} conditions, {@code driver: plugin} transports and authenticators) that
 * no verticle serves on this node: once the plugins of {@code verticles.json} are deployed (the
 * configuration is read before they start, so a check at load would warn at every start), and again
 * after each configuration change and each plugin change. Each address is reported once while it
 * stays unserved; served and unserved again, it is reported again.
 *
 * <p>Vert.x has no public "has this address a consumer" call, so each address is probed: a request
 * whose body is {@link #PROBE} with the header {@code postern-probe: true}. An address without a
 * consumer fails it at once with {@link ReplyFailure#NO_HANDLERS}; one with a consumer receives it,
 * and the inbound interceptor installed here answers it before the plugin's handler would see it.
 * A plugin therefore never gets a probe, and a plugin that merely consumes its address (the
 * contract of {@code docs/plugins.md}) counts as present with no code of its own.
 */
public final class PluginPresence {
  /** The probe's body; with {@link #PROBE_HEADER} it is answered by the interceptor, never by a plugin. */
  public static final String PROBE = "postern-probe";
  /** The probe's header, {@code postern-probe: true}. */
  public static final String PROBE_HEADER = "postern-probe";
  private static final Logger LOG = LoggerFactory.getLogger(PluginPresence.class);
  /** A consumer's event loop may be busy; anything but NO_HANDLERS in this time means someone is there. */
  private static final long PROBE_TIMEOUT_MILLIS = 5000;

  private final Vertx vertx;
  /** The addresses reported as unserved and not served since. */
  private final Set<String> reported = new HashSet<>();
  private Future<Void> last = Future.succeededFuture();

  /**
   * One plugin address the configuration names: the first place naming it (as the log says it) and
   * what happens while nobody serves it.
   */
  public record Use(String address, String what, String consequence) {
  }

  private PluginPresence(Vertx vertx) {
    this.vertx = vertx;
  }

  /**
   * Installs the probe's answerer, checks now, and checks again after every
   * {@code postern.config.changed} and {@code postern.plugins.changed}. Call it once per Vert.x
   * instance, after the plugins are deployed. Completes when the first check is done.
   */
  public static Future<Void> watch(Vertx vertx) {
    PluginPresence presence = new PluginPresence(vertx);
    vertx.eventBus().addInboundInterceptor(ctx -> {
      // The body first: a String comparison is all other messages pay (headers() would allocate).
      if (PROBE.equals(ctx.body()) && ctx.message().headers().contains(PROBE_HEADER)) {
        ctx.message().reply(PROBE);
      } else {
        ctx.next();
      }
    });
    vertx.eventBus().consumer(Addresses.CONFIG_CHANGED, m -> presence.check());
    vertx.eventBus().localConsumer(Addresses.PLUGINS_CHANGED, m -> presence.check());
    return presence.check();
  }

  /** One check after the previous one: probes every named address, reports what is newly unserved. */
  private synchronized Future<Void> check() {
    last = last.transform(ignored -> {
      ConfigHolder holder = ConfigHolder.of(vertx);
      if (!holder.isLoaded()) {
        return Future.succeededFuture();
      }
      Map<String, Use> uses = byAddress(holder.current());
      List<Future<Boolean>> probes = new ArrayList<>();
      for (String address : uses.keySet()) {
        probes.add(served(address));
      }
      return Future.join(probes).transform(done -> {
        List<String> missing = new ArrayList<>();
        int i = 0;
        for (Use need : uses.values()) {
          if (probes.get(i++).result()) {
            reported.remove(need.address());
            continue;
          }
          missing.add(need.address());
          if (reported.add(need.address())) {
            String line = need.what() + ": no plugin is deployed on " + need.address() + "; " + need.consequence();
            MainLog.write(line);
            LOG.warn(line);
          }
        }
        reported.retainAll(missing);
        vertx.eventBus().publish(Addresses.PLUGINS_CHECKED, new PluginPresenceCheck(missing).toJson());
        return Future.succeededFuture();
      });
    });
    return last;
  }

  /** True unless the address has no consumer on this node. */
  private Future<Boolean> served(String address) {
    DeliveryOptions options = new DeliveryOptions().setLocalOnly(true).setSendTimeout(PROBE_TIMEOUT_MILLIS)
        .addHeader(PROBE_HEADER, "true");
    return vertx.eventBus().request(address, PROBE, options).transform(ar -> Future.succeededFuture(ar.succeeded()
        || !(ar.cause() instanceof ReplyException r && r.failureType() == ReplyFailure.NO_HANDLERS)));
  }

  /** The plugin addresses the configuration names (ACL conditions, transports, authenticators), in that order. */
  public static List<Use> uses(PosternConfig config) {
    return List.copyOf(byAddress(config).values());
  }

  /** The plugin addresses the configuration names, by address, each with the first place naming it. */
  private static Map<String, Use> byAddress(PosternConfig config) {
    Map<String, Use> uses = new LinkedHashMap<>();
    String aclFile = ConfigLoader.display(config.configFile().resolveSibling(ConfigLoader.ACL_FILE));
    for (Acl acl : config.acls().values()) {
      for (AclRule rule : acl.rules()) {
        for (AclCondition c : rule.conditions()) {
          if ((c instanceof NegatedCondition n ? n.inner() : c) instanceof PluginCondition p) {
            uses.putIfAbsent(p.address(), new Use(p.address(), "ACL condition \"plugin: " + p.name() + "\" in "
                + acl.name() + " (" + aclFile + ":" + rule.line() + ")", "the condition defers"));
          }
        }
      }
    }
    for (PluginTransportOptions t : config.delivery().pluginTransports().values()) {
      uses.putIfAbsent(t.address(), new Use(t.address(), "transport \"" + t.name() + "\" (driver: plugin)",
          "its deliveries are deferred"));
    }
    for (AuthenticatorConfig a : config.auth().authenticators()) {
      if (a.plugin()) {
        uses.putIfAbsent(a.address(), new Use(a.address(), "authenticator \"" + a.name() + "\" (driver: plugin, "
            + a.publicName() + ")", "AUTH " + a.publicName() + " fails with 454 4.7.0"));
      }
    }
    return uses;
  }
}
