package org.postern.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A plugin's answer to a {@link PluginConditionRequest}: whether the condition is true, false or
 * cannot be decided now (defer), and what the plugin wants done with it: {@code $acl_c*} /
 * {@code $acl_m*} variables to set, header lines to add to the message, a line for the main log,
 * and the text of the SMTP reply should the rule's verb decide with it. Everything but
 * {@code result} is optional, so the first contract, {@code {"result": true}}, is still a whole
 * reply. Schema in {@code docs/plugins.md}.
 *
 * @param result     the condition's value
 * @param set        {@code acl_c0..acl_c9}, {@code acl_m0..acl_m9} or {@code acl_c_NAME}/{@code acl_m_NAME}
 *                   to assign (other names are ignored and logged); empty for none
 * @param headers    complete header lines without CRLF ({@code X-Plugin: checked}), added as
 *                   {@code add_header} adds them (only when the ACL's verdict accepts); empty for none
 * @param logMessage a line for the main log, or null
 * @param message    the reply text for the client when the rule decides (the rule's own {@code message}
 *                   wins), or null
 */
public record PluginConditionReply(Result result, Map<String, String> set, List<String> headers, String logMessage,
                                   String message) implements BusRecord {
  /** The three answers of a condition. */
  public enum Result {
    TRUE, FALSE, DEFER;

    /** {@code true}, {@code false} or {@code "defer"}, as the JSON has it. */
    public Object wire() {
      return this == DEFER ? "defer" : this == TRUE;
    }

    /** A JSON boolean, or the strings {@code "true"}/{@code "false"}; anything else is defer. */
    public static Result fromWire(Object value) {
      if (Boolean.TRUE.equals(value) || value instanceof String s && s.toLowerCase(Locale.ROOT).equals("true")) {
        return TRUE;
      }
      if (Boolean.FALSE.equals(value) || value instanceof String s && s.toLowerCase(Locale.ROOT).equals("false")) {
        return FALSE;
      }
      return DEFER;
    }
  }

  public PluginConditionReply {
    set = set == null ? Map.of() : Map.copyOf(set);
    headers = headers == null ? List.of() : List.copyOf(headers);
  }

  /** A reply that carries only a result. */
  public static PluginConditionReply of(Result result) {
    return new PluginConditionReply(result, Map.of(), List.of(), null, null);
  }

  @Override
  public JsonObject toJson() {
    JsonObject j = new JsonObject().put("result", result.wire());
    if (!set.isEmpty()) {
      j.put("set", new JsonObject(new LinkedHashMap<>(set)));
    }
    if (!headers.isEmpty()) {
      j.put("headers", new JsonArray(headers));
    }
    if (logMessage != null) {
      j.put("log_message", logMessage);
    }
    if (message != null) {
      j.put("message", message);
    }
    return j;
  }

  /**
   * The reply in {@code body}: a JSON object as above, or (as the first plugins answered) a bare
   * boolean or string result. Anything else, null included, is a deferral.
   */
  public static PluginConditionReply fromBody(Object body) {
    return body instanceof JsonObject j ? fromJson(j) : of(Result.fromWire(body));
  }

  public static PluginConditionReply fromJson(JsonObject j) {
    Map<String, String> set = new LinkedHashMap<>();
    JsonObject s = j.getValue("set") instanceof JsonObject o ? o : new JsonObject();
    s.forEach(e -> set.put(e.getKey(), e.getValue() == null ? "" : String.valueOf(e.getValue())));
    JsonArray h = j.getValue("headers") instanceof JsonArray a ? a : new JsonArray();
    return new PluginConditionReply(Result.fromWire(j.getValue("result")), set,
        h.stream().map(String::valueOf).toList(), j.getValue("log_message") instanceof String l ? l : null,
        j.getValue("message") instanceof String m ? m : null);
  }
}
