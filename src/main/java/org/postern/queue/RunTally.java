package org.postern.queue;

import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import org.postern.bus.Addresses;
import org.postern.bus.MessageEvent;
import org.postern.bus.QueueFlushReply;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The recipient outcomes of one waited queue run, for its {@link QueueFlushReply}: taken from the
 * node's own delivered, deferred and failed events (consumed node-locally) while the run lasts, and
 * kept for the run's messages only. Listening starts before the run does, so no outcome is missed.
 */
final class RunTally {
  private final List<MessageConsumer<JsonObject>> consumers = new ArrayList<>();
  private final List<MessageEvent> seen = new ArrayList<>();

  RunTally(Vertx vertx) {
    for (MessageEvent.Kind kind : List.of(MessageEvent.Kind.DELIVERED, MessageEvent.Kind.DEFERRED,
        MessageEvent.Kind.FAILED)) {
      consumers.add(vertx.eventBus().<JsonObject>localConsumer(Addresses.event(kind),
          m -> seen.add(MessageEvent.fromJson(m.body()))));
    }
  }

  /** Stops listening; the reply for a run that started {@code started} of the messages {@code ids}. */
  QueueFlushReply end(int started, Collection<String> ids) {
    consumers.forEach(MessageConsumer::unregister);
    Set<String> run = new HashSet<>(ids);
    int delivered = 0;
    int deferred = 0;
    int failed = 0;
    for (MessageEvent e : seen) {
      if (!run.contains(e.id())) {
        continue;
      }
      switch (e.kind()) {
        case DELIVERED -> delivered++;
        case DEFERRED -> deferred++;
        default -> failed++;
      }
    }
    return new QueueFlushReply(started, delivered, deferred, failed);
  }
}
