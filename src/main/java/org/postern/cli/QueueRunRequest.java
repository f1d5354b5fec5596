package org.postern.cli;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.postern.bus.Addresses;
import org.postern.queue.QueueFlush;

import java.util.List;

/**
 * What {@code -q}, {@code -qf}, {@code -qff}, {@code -R} and {@code -M} ask of the queue on
 * {@link Addresses#QUEUE_FLUSH}: the body of the request, always with {@code wait: true} because
 * the command exits only when the deliveries it started are over (as Exim's {@code -q} does).
 */
record QueueRunRequest(JsonObject body) {
  /**
   * {@code -q} ({@code {}}), {@code -qf} ({@code {force: true}}) or {@code -qff}
   * ({@code {force: true, thaw: true}}): the whole queue.
   */
  static QueueRunRequest queue(boolean force, boolean thaw) {
    JsonObject body = new JsonObject();
    if (force) {
      body.put("force", true);
    }
    if (thaw) {
      body.put("thaw", true);
    }
    return new QueueRunRequest(body.put("wait", true));
  }

  /** {@code -R domain}: messages with a recipient in the domain, retry times ignored. */
  static QueueRunRequest domain(String domain) {
    return new QueueRunRequest(new JsonObject().put("domain", domain).put("force", true).put("wait", true));
  }

  /** {@code -M id...}: these messages, now, thawed if frozen (as Exim's {@code -M}). */
  static QueueRunRequest messages(List<String> ids) {
    return new QueueRunRequest(new JsonObject().put("ids", new JsonArray(List.copyOf(ids))).put("force", true)
        .put("thaw", true).put("wait", true));
  }

  /**
   * Sends the request to the queue of this process and yields how many deliveries it started. Fails
   * when nobody consumes the address or no reply came within {@code timeoutMs}.
   */
  Future<Integer> send(Vertx vertx, long timeoutMs) {
    return vertx.eventBus().<JsonObject>request(Addresses.QUEUE_FLUSH, body,
            new DeliveryOptions().setLocalOnly(true).setSendTimeout(timeoutMs))
        .map(reply -> QueueFlush.started(reply.body()));
  }
}
