package org.postern.queue;

import io.vertx.core.json.JsonObject;
import org.postern.bus.Addresses;

/**
 * Reading the queue's answer to {@link Addresses#QUEUE_FLUSH}, shared by ETRN and the command
 * line's {@code -q}/{@code -M}.
 */
public final class QueueFlush {
  private QueueFlush() {
  }

  /** How many deliveries the queue started; 0 for a reply without the count. */
  public static int started(JsonObject reply) {
    return reply == null || !(reply.getValue("started") instanceof Number n) ? 0 : n.intValue();
  }
}
