package org.postern.bus;

import io.vertx.core.json.JsonObject;

/**
 * The queue's answer to an {@link EnqueueRequest}: sent once the message's first delivery attempt
 * is over, or at once when it is only queued. JSON form {@code {id, queued}}.
 *
 * @param id     the spool id
 * @param queued no delivery was attempted: the message waits for a queue run
 */
public record EnqueueReply(String id, boolean queued) implements BusRecord {
  @Override
  public JsonObject toJson() {
    return new JsonObject().put("id", id).put("queued", queued);
  }

  public static EnqueueReply fromJson(JsonObject j) {
    return new EnqueueReply(j.getString("id"), j.getBoolean("queued", false));
  }
}
