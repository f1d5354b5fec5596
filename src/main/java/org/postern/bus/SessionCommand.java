package org.postern.bus;

import io.vertx.core.json.JsonObject;

/**
 * {@code postern.session.command} request: one command line (or a SASL response inside an AUTH
 * exchange). The reply is a {@link SessionResponse}.
 *
 * @param line    the line without its CRLF; "" when {@code tooLong}
 * @param bareLf  the line ended with a bare LF, not CRLF
 * @param tooLong the line passed the length limit and was dropped
 */
public record SessionCommand(String id, String line, boolean bareLf, boolean tooLong) {

  public static SessionCommand line(String id, String line, boolean bareLf) {
    return new SessionCommand(id, line, bareLf, false);
  }

  public static SessionCommand tooLong(String id) {
    return new SessionCommand(id, "", false, true);
  }

  public JsonObject toJson() {
    return new JsonObject().put("id", id).put("line", line).put("bare_lf", bareLf).put("too_long", tooLong);
  }

  public static SessionCommand fromJson(JsonObject json) {
    return new SessionCommand(json.getString("id"), json.getString("line", ""), json.getBoolean("bare_lf", false),
        json.getBoolean("too_long", false));
  }
}
