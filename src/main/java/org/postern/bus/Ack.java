package org.postern.bus;

import io.vertx.core.json.JsonObject;

/** A reply that says only "done" (to {@code postern.session.tls}); JSON {@code {}}. */
public record Ack() {
  public static final Ack INSTANCE = new Ack();

  public JsonObject toJson() {
    return new JsonObject();
  }

  public static Ack fromJson(JsonObject json) {
    return INSTANCE;
  }
}
