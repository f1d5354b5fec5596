package org.postern.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * The side effects an ACL asked for on its way to a verdict: header lines to add to the message
 * ({@code add_header}), a pause before the reply ({@code delay}) and session controls
 * ({@code control}). The session applies headers and controls only when the verdict accepts;
 * the delay always happens (it is what slows down a rejected spammer).
 *
 * @param headers     complete header lines without CRLF, e.g. {@code X-Spam: yes}
 * @param controls    ACL control names (the policy layer's {@code AclControl}) with their options, e.g.
 *                    {@code submission/domain=example.org}
 * @param delayMillis how long to wait before replying
 */
public record AclEffects(List<String> headers, List<String> controls, long delayMillis) {
  public static final AclEffects NONE = new AclEffects(List.of(), List.of(), 0);

  public AclEffects {
    headers = List.copyOf(headers);
    controls = List.copyOf(controls);
  }

  public boolean isEmpty() {
    return headers.isEmpty() && controls.isEmpty() && delayMillis == 0;
  }

  public JsonObject toJson() {
    return new JsonObject().put("headers", new JsonArray(headers)).put("controls", new JsonArray(controls))
        .put("delay", delayMillis);
  }

  public static AclEffects fromJson(JsonObject json) {
    if (json == null) {
      return NONE;
    }
    return new AclEffects(strings(json.getJsonArray("headers")), strings(json.getJsonArray("controls")),
        json.getLong("delay", 0L));
  }

  private static List<String> strings(JsonArray array) {
    return array == null ? List.of() : array.stream().map(String::valueOf).toList();
  }
}
