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

  /**
   * How many deliveries the queue started. A queue that answers {@code started: true} without a
   * count (before the counting one) is taken to have started something.
   */
  public static int started(JsonObject reply) {
    Object started = reply == null ? null : reply.getValue("started");
    if (started instanceof Number n) {
      return n.intValue();
    }
    return Boolean.TRUE.equals(started) ? 1 : 0;
  }
}
