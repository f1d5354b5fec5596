package org.postern.policy;

import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import org.postern.bus.Addresses;
import org.postern.bus.PluginConditionReply;
import org.postern.bus.PluginConditionRequest;
import org.postern.bus.UnansweredRequest;
import org.postern.expand.Expansion;
import org.postern.expand.ExpansionException;
import org.postern.log.MainLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;

/**
 * {@code plugin: NAME} or {@code plugin: NAME/argument}: asks the verticle on
 * {@code postern.acl.condition.NAME} with a {@link PluginConditionRequest} (the session's variables
 * and the expanded argument); it answers a {@link PluginConditionReply}: true, false or defer, and
 * optionally {@code $acl_*} variables to set, header lines to add, a main-log line and a reply text.
 * A plugin that is not deployed, fails, or does not answer within its timeout
 * ({@code acl_plugin_timeouts.NAME}, else {@code acl_plugin_timeout}) counts as defer: a slow
 * plugin never hangs a session, and never lets mail through by accident.
 */
public final class PluginCondition implements AclCondition {
  private static final Logger LOG = LoggerFactory.getLogger(PluginCondition.class);
  private static final String ACL_VARIABLE = "acl_[cm](\\d+|_[A-Za-z0-9_]+)";

  private final String name;
  private final Expansion argument;

  /** @param argument what follows the {@code /}, an expansion; null when the condition has none */
  public PluginCondition(String name, Expansion argument) {
    this.name = name;
    this.argument = argument;
  }

  /** The plugin name, as {@code postern.acl.condition.NAME} has it. */
  public String name() {
    return name;
  }

  /** The bus address this condition asks. */
  public String address() {
    return Addresses.ACL_CONDITION_PREFIX + name;
  }

  @Override
  public Future<Outcome> test(AclContext context) {
    if (context.vertx() == null) {
      context.trace().accept("  plugin " + name + ": no event bus here, defer");
      return Future.succeededFuture(Outcome.DEFER);
    }
    String arg;
    try {
      arg = argument == null ? null : argument.expand(context::variable);
    } catch (ExpansionException e) {
      context.trace().accept("  plugin " + name + ": argument not expandable (" + e.getMessage() + "), defer");
      return Future.succeededFuture(Outcome.DEFER);
    }
    long timeout = context.config().pluginTimeout(name).toMillis();
    DeliveryOptions options = new DeliveryOptions().setLocalOnly(true).setSendTimeout(timeout);
    PluginConditionRequest request = new PluginConditionRequest(name, arg,
        context.stage() == null ? null : context.stage().wire(), context.variables().copy());
    return context.vertx().eventBus().<Object>request(address(), request.toJson(), options)
        .map(reply -> apply(PluginConditionReply.fromBody(reply.body()), context))
        .otherwise(e -> {
          String why = UnansweredRequest.describe(e, address(), timeout);
          LOG.warn("plugin condition {}: {}; the condition defers", name, why);
          context.trace().accept("  plugin " + name + ": " + why + ", defer");
          return Outcome.DEFER;
        });
  }

  private Outcome apply(PluginConditionReply reply, AclContext context) {
    context.trace().accept("  plugin " + name + " answered " + reply.toJson().encode());
    for (Map.Entry<String, String> e : reply.set().entrySet()) {
      if (e.getKey().matches(ACL_VARIABLE)) {
        context.set(e.getKey(), e.getValue());
      } else {
        LOG.warn("plugin condition {}: cannot set ${} (only acl_c* and acl_m* variables), ignored", name, e.getKey());
      }
    }
    for (String header : reply.headers()) {
      HeaderLines.sanitize(header).forEach(context::addHeader);
    }
    if (reply.logMessage() != null) {
      // One line: a plugin's text must not forge main-log entries.
      MainLog.write(prefix(context) + "plugin " + name + ": " + reply.logMessage().replaceAll("[\r\n]+", " "));
    }
    if (reply.message() != null) {
      context.explain(reply.message().replaceAll("[\r\n]+", " "));
    }
    return switch (reply.result()) {
      case TRUE -> Outcome.TRUE;
      case FALSE -> Outcome.FALSE;
      case DEFER -> Outcome.DEFER;
    };
  }

  private static String prefix(AclContext context) {
    String host = context.variable("sender_host_address");
    return host == null || host.isEmpty() ? "" : "H=[" + host + "] ";
  }

  @Override
  public String describe() {
    return "plugin = " + name + (argument == null ? "" : "/" + argument.source());
  }
}
