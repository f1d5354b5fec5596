package org.postern.bus;

import io.vertx.core.json.JsonObject;

/**
 * One live SMTP session as the admin API's {@code GET /sessions} shows it: part of a
 * {@link SessionList}.
 *
 * @param client          {@code [address]:port} of the client, as the main log shows it; "" for a local session
 * @param listener        the listener's name ({@code $received_listener})
 * @param state           {@code connected} (no HELO yet), {@code greeted}, {@code mail} (in a
 *                        transaction, between MAIL and DATA) or {@code data} (receiving the message)
 * @param tlsCipher       {@code $tls_cipher}, or null in clear text
 * @param authenticatedId {@code $authenticated_id}, or null
 * @param startedAt       epoch milliseconds of the connection's start
 */
public record SessionSummary(String id, String client, String listener, String state, String tlsCipher,
                             String authenticatedId, long startedAt) implements BusRecord {
  @Override
  public JsonObject toJson() {
    JsonObject j = new JsonObject().put("id", id).put("client", client).put("listener", listener).put("state", state)
        .put("started_at", startedAt);
    // Optional members are absent, never null (docs/plugins.md).
    if (tlsCipher != null) {
      j.put("tls_cipher", tlsCipher);
    }
    if (authenticatedId != null) {
      j.put("authenticated_id", authenticatedId);
    }
    return j;
  }

  public static SessionSummary fromJson(JsonObject j) {
    return new SessionSummary(j.getString("id"), j.getString("client"), j.getString("listener"), j.getString("state"),
        j.getString("tls_cipher"), j.getString("authenticated_id"), j.getLong("started_at", 0L));
  }
}
