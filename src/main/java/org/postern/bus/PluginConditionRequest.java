package org.postern.bus;

import io.vertx.core.json.JsonObject;

/**
 * {@code postern.acl.condition.<name>}: the question an ACL's {@code plugin: NAME/argument}
 * condition asks the plugin verticle that consumes that address, answered by a
 * {@link PluginConditionReply}. Plugin-facing, so it always travels as JSON ({@link #toJson()});
 * a plugin needs nothing but Vert.x to read it. Schema and example in {@code docs/plugins.md}.
 *
 * @param name      the plugin name, as the condition wrote it ({@code greylist})
 * @param argument  what follows the first {@code /} of the condition, expanded ({@code $sender_address}
 *                  becomes the address); null when there is none
 * @param stage     the ACL stage being evaluated ({@code rcpt}, {@code mail}, ...), or null when unknown
 * @param variables the session's {@code $variables} at this point of the evaluation, by name without
 *                  the {@code $} ({@code sender_host_address}, {@code local_part}, {@code acl_m0}, ...)
 */
public record PluginConditionRequest(String name, String argument, String stage, JsonObject variables)
    implements BusRecord {
  public PluginConditionRequest {
    variables = variables == null ? new JsonObject() : variables;
  }

  /** The JSON form; {@code argument} and {@code stage} only when set. */
  @Override
  public JsonObject toJson() {
    JsonObject j = new JsonObject().put("name", name).put("variables", variables);
    if (argument != null) {
      j.put("argument", argument);
    }
    if (stage != null) {
      j.put("stage", stage);
    }
    return j;
  }

  public static PluginConditionRequest fromJson(JsonObject j) {
    return new PluginConditionRequest(j.getString("name"), j.getString("argument"), j.getString("stage"),
        j.getJsonObject("variables"));
  }
}
