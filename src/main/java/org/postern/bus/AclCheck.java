package org.postern.bus;

import io.vertx.core.json.JsonObject;

/**
 * {@code postern.acl.check} request: evaluate one stage's ACL. The reply is an {@link AclVerdict}.
 * The variables are handed over: evaluation writes into them (e.g. {@code $dnslist_domain},
 * {@code $sender_rate}), so the sender builds a fresh set for each check and never reads it again.
 *
 * @param variables  the session's {@code $variables} as of now
 * @param generation the configuration generation the session runs under (evaluated with it while known)
 * @param trace      {@code -bh}: report every step on stderr
 */
public record AclCheck(AclStage stage, JsonObject variables, String generation, boolean trace) {

  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("stage", stage.wire()).put("variables", variables).put("trace", trace);
    if (generation != null) {
      json.put("generation", generation);
    }
    return json;
  }

  /** {@link IllegalArgumentException} for a missing or unknown stage. */
  public static AclCheck fromJson(JsonObject json) {
    String stage = json.getString("stage");
    if (stage == null) {
      throw new IllegalArgumentException("no stage");
    }
    return new AclCheck(AclStage.fromWire(stage), json.getJsonObject("variables", new JsonObject()),
        json.getString("generation"), json.getBoolean("trace", false));
  }
}
