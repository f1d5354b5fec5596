package org.postern.bus;

import io.vertx.core.json.JsonObject;

/**
 * The queue's answer to a {@link QueueFlushRequest}, JSON {@code {started: n}}.
 *
 * @param started how many messages the run selected and started (0: nothing was waiting)
 */
public record QueueFlushReply(int started) implements BusRecord {
  @Override
  public JsonObject toJson() {
    return new JsonObject().put("started", started);
  }

  public static QueueFlushReply fromJson(JsonObject j) {
    return new QueueFlushReply(j == null ? 0 : j.getInteger("started", 0));
  }
}
