package org.postern.bus;

import io.vertx.core.json.JsonObject;

/**
 * {@code postern.session.tls} request: the STARTTLS handshake is over. On success the session
 * starts again from the greeting (RFC 3207 4.2) with these TLS facts; after a failure it accepts
 * only QUIT. The reply is an {@link Ack}, sent once the session has changed.
 *
 * @param tls the TLS facts ({@code tls_cipher}, {@code tls_peerdn}, ...); null when {@code failed}
 */
public record SessionTls(String id, boolean failed, JsonObject tls) {

  public static SessionTls started(String id, JsonObject tls) {
    return new SessionTls(id, false, tls);
  }

  public static SessionTls failed(String id) {
    return new SessionTls(id, true, null);
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("id", id).put("failed", failed);
    if (tls != null) {
      json.put("tls", tls);
    }
    return json;
  }

  public static SessionTls fromJson(JsonObject json) {
    return new SessionTls(json.getString("id"), json.getBoolean("failed", false), json.getJsonObject("tls"));
  }
}
