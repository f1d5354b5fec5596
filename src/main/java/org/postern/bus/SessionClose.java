package org.postern.bus;

import io.vertx.core.json.JsonObject;

/**
 * {@code postern.session.close}: the connection is gone; the session forgets its state and, unless
 * the reason says otherwise, runs the notquit ACL with {@code $reason}. Sent, never answered.
 */
public record SessionClose(String id, CloseReason reason) {

  public JsonObject toJson() {
    return new JsonObject().put("id", id).put("reason", reason.wire());
  }

  public static SessionClose fromJson(JsonObject json) {
    return new SessionClose(json.getString("id"), CloseReason.fromWire(json.getString("reason", "connection-lost")));
  }
}
