package org.postern.bus;

import io.vertx.core.json.JsonObject;

/**
 * The answer of an ACL: what to do with the command and, optionally, the reply text, a code
 * override (e.g. 550 5.1.1 from a failed {@code verify = recipient}) and a line for the main log.
 * This is the body of a {@code postern.acl.check} reply. {@code set} holds the {@code acl_c*} and
 * {@code acl_m*} values the ACL assigned, for the session to keep; {@code effects} the headers,
 * controls and delay its modifiers asked for.
 */
public record AclVerdict(Type type, Integer code, String enhanced, String message, String logMessage, String rule,
                         JsonObject set, AclEffects effects) {

  /** Exim's final verbs. {@code require} and {@code warn} never end an ACL with their own name. */
  public enum Type {
    ACCEPT, DENY, DEFER, DISCARD, DROP;

    public String wire() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  public AclVerdict {
    // No assignments and an empty set are the same verdict.
    set = set == null || set.isEmpty() ? null : set.copy();
    effects = effects == null ? AclEffects.NONE : effects;
  }

  public static AclVerdict of(Type type) {
    return new AclVerdict(type, null, null, null, null, null, null, AclEffects.NONE);
  }

  public boolean accepted() {
    return type == Type.ACCEPT || type == Type.DISCARD;
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("verdict", type.wire());
    if (code != null) {
      json.put("code", code);
    }
    if (enhanced != null) {
      json.put("enhanced", enhanced);
    }
    if (message != null) {
      json.put("message", message);
    }
    if (logMessage != null) {
      json.put("log_message", logMessage);
    }
    if (rule != null) {
      json.put("rule", rule);
    }
    if (set != null) {
      json.put("set", set);
    }
    if (!effects.isEmpty()) {
      json.put("effects", effects.toJson());
    }
    return json;
  }

  public static AclVerdict fromJson(JsonObject json) {
    Type type = Type.valueOf(json.getString("verdict", "defer").toUpperCase(java.util.Locale.ROOT));
    return new AclVerdict(type, json.getInteger("code"), json.getString("enhanced"), json.getString("message"),
        json.getString("log_message"), json.getString("rule"), json.getJsonObject("set"),
        AclEffects.fromJson(json.getJsonObject("effects")));
  }
}
