package org.postern.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * {@code postern.session.data} request: the final dot was read and the content is in the spool
 * (not yet committed). The reply is a {@link SessionResponse}: commit, abort or discard.
 *
 * @param messageId       the spool id the DATA reply gave
 * @param size            octets received (counting past the limit when {@code tooBig})
 * @param tooBig          the content passed {@code message_size_limit} and was not stored
 * @param bareLf          the content held a bare LF
 * @param bareCr          the content held a bare CR
 * @param messageIdHeader the Message-ID header's value, or null
 * @param headers         the header section as received, for {@code $message_headers}
 * @param mimeParts       one object of {@code mime_*} variables per MIME part, when a MIME ACL is
 *                        configured, else null
 * @param receivedHeaders the {@code Received:} header fields the client sent (mail-loop check)
 */
public record SessionData(String id, String messageId, long size, boolean tooBig, boolean bareLf, boolean bareCr,
                          String messageIdHeader, String headers, JsonArray mimeParts, int receivedHeaders) {

  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("id", id).put("message_id", messageId).put("size", size)
        .put("too_big", tooBig).put("bare_lf", bareLf).put("bare_cr", bareCr).put("headers", headers)
        .put("received_headers", receivedHeaders);
    if (messageIdHeader != null) {
      json.put("message_id_header", messageIdHeader);
    }
    if (mimeParts != null) {
      json.put("mime_parts", mimeParts);
    }
    return json;
  }

  public static SessionData fromJson(JsonObject json) {
    return new SessionData(json.getString("id"), json.getString("message_id", ""), json.getLong("size", 0L),
        json.getBoolean("too_big", false), json.getBoolean("bare_lf", false), json.getBoolean("bare_cr", false),
        json.getString("message_id_header"), json.getString("headers", ""), json.getJsonArray("mime_parts"),
        json.getInteger("received_headers", 0));
  }
}
