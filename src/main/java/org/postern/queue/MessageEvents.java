package org.postern.queue;

import io.vertx.core.Vertx;
import org.postern.bus.Addresses;
import org.postern.bus.MessageEvent;
import org.postern.bus.RemoteHost;

import java.time.Clock;

/**
 * Publishes the queue's {@link MessageEvent}s beside its main-log lines: JSON on a published
 * address, so observers in this node and (clustered) in the others get them and the queue never
 * waits for one. Safe from worker threads.
 */
final class MessageEvents {
  private final Vertx vertx;
  private final Clock clock;

  MessageEvents(Vertx vertx, Clock clock) {
    this.vertx = vertx;
    this.clock = clock;
  }

  void message(MessageEvent.Kind kind, String id) {
    publish(MessageEvent.of(kind, id, clock.millis()));
  }

  void recipient(MessageEvent.Kind kind, String id, String recipient, String router, String transport,
                 RemoteHost host, int code, String text) {
    publish(MessageEvent.recipient(kind, id, clock.millis(), recipient, router, transport, host, code, text));
  }

  void bounced(String id, String bounceId) {
    publish(MessageEvent.bounced(id, clock.millis(), bounceId));
  }

  private void publish(MessageEvent event) {
    vertx.eventBus().publish(Addresses.event(event.kind()), event.toJson());
  }
}
