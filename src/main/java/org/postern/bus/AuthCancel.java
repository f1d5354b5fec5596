package org.postern.bus;

import io.vertx.core.json.JsonObject;

/**
 * Published (node-local) on {@code postern.auth.cancel}: the exchange ended before its
 * authenticator answered anything but a challenge (the client sent {@code *}, a line that was too
 * long or not base64, or went away). Every authenticator that holds the exchange forgets it.
 * JSON form {@code {exchange}}.
 *
 * @param exchange the id the exchange's {@link AuthStep}s carried
 */
public record AuthCancel(String exchange) implements BusRecord {
  @Override
  public JsonObject toJson() {
    return new JsonObject().put("exchange", exchange);
  }

  public static AuthCancel fromJson(JsonObject json) {
    return new AuthCancel(json.getString("exchange"));
  }
}
