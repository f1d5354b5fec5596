package org.postern.cli;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import org.postern.bus.Addresses;
import org.postern.bus.QueueFlushReply;
import org.postern.bus.QueueFlushRequest;

import java.util.List;

/**
 * What {@code -q}, {@code -qf}, {@code -qff}, {@code -R} and {@code -M} ask of the queue on
 * {@link Addresses#QUEUE_FLUSH}, always with {@code wait} because the command exits only when the
 * deliveries it started are over (as Exim's {@code -q} does).
 */
record QueueRunRequest(QueueFlushRequest request) {
  /** {@code -q}, {@code -qf} ({@code force}) or {@code -qff} ({@code force} and {@code thaw}): the whole queue. */
  static QueueRunRequest queue(boolean force, boolean thaw) {
    return new QueueRunRequest(new QueueFlushRequest(null, false, force, List.of(), thaw, true));
  }

  /** {@code -R domain}: messages with a recipient in the domain, retry times ignored. */
  static QueueRunRequest domain(String domain) {
    return new QueueRunRequest(new QueueFlushRequest(domain, false, true, List.of(), false, true));
  }

  /** {@code -M id...}: these messages, now, thawed if frozen (as Exim's {@code -M}). */
  static QueueRunRequest messages(List<String> ids) {
    return new QueueRunRequest(QueueFlushRequest.deliver(ids, true));
  }

  /**
   * Sends the request to the queue of this process and yields its reply: how many messages it
   * started and the outcomes of their recipients. Fails
   * when nobody consumes the address or no reply came within {@code timeoutMs}.
   */
  Future<QueueFlushReply> send(Vertx vertx, long timeoutMs) {
    return vertx.eventBus().<JsonObject>request(Addresses.QUEUE_FLUSH, request.toJson(),
            new DeliveryOptions().setLocalOnly(true).setSendTimeout(timeoutMs))
        .map(reply -> QueueFlushReply.fromJson(reply.body()));
  }
}
