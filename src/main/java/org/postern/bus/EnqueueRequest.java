package org.postern.bus;

import io.vertx.core.json.JsonObject;

/**
 * {@code postern.queue.enqueue}: a message is committed to the spool, the queue may deliver it.
 * Node-local (the spool is the node's own); passed by reference through {@link BusCodecs}.
 * JSON form {@code {id, queue_only}}.
 *
 * @param id        the spool id
 * @param queueOnly leave it for the next queue run (Exim's {@code queue_only}, an ACL's {@code control = queue})
 */
public record EnqueueRequest(String id, boolean queueOnly) implements BusRecord {
  @Override
  public JsonObject toJson() {
    return new JsonObject().put("id", id).put("queue_only", queueOnly);
  }

  public static EnqueueRequest fromJson(JsonObject j) {
    return new EnqueueRequest(j.getString("id"), j.getBoolean("queue_only", false));
  }
}
