package org.postern.policy;

import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import org.postern.bus.Addresses;

/**
 * {@code plugin = <name>}: asks the verticle on {@code postern.acl.condition.<name>} with the
 * session's variables; it answers {@code {"result": true|false|"defer"}}. A plugin that is not
 * deployed, fails, or does not answer within {@code acl_plugin_timeout} counts as defer: a slow
 * plugin never hangs a session, and never lets mail through by accident.
 */
public final class PluginCondition implements AclCondition {
  private final String name;

  public PluginCondition(String name) {
    this.name = name;
  }

  @Override
  public Future<Outcome> test(AclContext context) {
    if (context.vertx() == null) {
      return Future.succeededFuture(Outcome.DEFER);
    }
    DeliveryOptions options = new DeliveryOptions().setLocalOnly(true)
        .setSendTimeout(context.config().aclPluginTimeout().toMillis());
    JsonObject request = new JsonObject().put("variables", context.variables());
    return context.vertx().eventBus().<Object>request(Addresses.ACL_CONDITION_PREFIX + name, request, options)
        .map(reply -> outcome(reply.body()))
        .otherwise(Outcome.DEFER);
  }

  private static Outcome outcome(Object body) {
    Object result = body instanceof JsonObject json ? json.getValue("result") : body;
    if (Boolean.TRUE.equals(result) || "true".equals(result)) {
      return Outcome.TRUE;
    }
    if (Boolean.FALSE.equals(result) || "false".equals(result)) {
      return Outcome.FALSE;
    }
    return Outcome.DEFER;
  }

  @Override
  public String describe() {
    return "plugin = " + name;
  }
}
