package org.postern.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * Published (node-local) on {@code postern.plugins.checked} once the plugin addresses the
 * configuration names (ACL {@code plugin:} conditions, {@code driver: plugin} transports and
 * authenticators) were probed: the addresses nobody serves on this node. JSON {@code {missing}}.
 */
public record PluginPresenceCheck(List<String> missing) implements BusRecord {
  public PluginPresenceCheck {
    missing = List.copyOf(missing);
  }

  @Override
  public JsonObject toJson() {
    return new JsonObject().put("missing", new JsonArray(missing));
  }

  public static PluginPresenceCheck fromJson(JsonObject j) {
    JsonArray missing = j.getJsonArray("missing", new JsonArray());
    return new PluginPresenceCheck(missing.stream().map(String::valueOf).toList());
  }
}
