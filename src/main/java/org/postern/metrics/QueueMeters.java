package org.postern.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.postern.bus.Addresses;
import org.postern.bus.MessageEvent;
import org.postern.config.ConfigHolder;
import org.postern.config.PosternConfig;
import org.postern.queue.QueueListing;
import org.postern.queue.RetryDatabase;
import org.postern.spool.Envelope;
import org.postern.spool.Spool;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.ToDoubleFunction;

/**
 * Messages and deliveries from the published message events of this node ({@code postern.event.*},
 * consumed node-locally: in a cluster each node counts its own), and the queue's state (size,
 * frozen count, oldest message's age, retry records), read from the spool when scraped, as
 * {@code -bpc} and {@code exinext} read it. The {@code transport} label takes the configured
 * transports' names.
 */
final class QueueMeters {
  /** The queue as last read. */
  private record Snapshot(int messages, int frozen, double oldestAgeSeconds, int retryRecords) {
  }

  private final Vertx vertx;
  private final MeterRegistry registry;
  private final Pending<Long> committed;
  private final Counter accepted;
  private final Counter acceptedBytes;
  private final Counter bounces;
  private final AtomicReference<Snapshot> snapshot = new AtomicReference<>(new Snapshot(0, 0, 0, 0));
  private RetryDatabase retryDatabase;

  QueueMeters(Vertx vertx, MeterRegistry registry, Pending<Long> committed) {
    this.vertx = vertx;
    this.registry = registry;
    this.committed = committed;
    accepted = Counter.builder("postern.messages.accepted").description("messages accepted into the spool")
        .register(registry);
    acceptedBytes = Counter.builder("postern.messages.accepted.size").baseUnit("bytes")
        .description("size of the messages accepted by SMTP").register(registry);
    bounces = Counter.builder("postern.bounces").description("bounce messages spooled").register(registry);
    gauge("postern.queue.messages", "messages in the queue", s -> s.messages(), null);
    gauge("postern.queue.frozen.messages", "frozen messages in the queue", s -> s.frozen(), null);
    gauge("postern.queue.oldest.message.age", "age of the oldest message in the queue", Snapshot::oldestAgeSeconds,
        "seconds");
    gauge("postern.retry.records", "records in the retry database", s -> s.retryRecords(), null);
  }

  private void gauge(String name, String description, ToDoubleFunction<Snapshot> value,
                     String unit) {
    Gauge.builder(name, snapshot, r -> value.applyAsDouble(r.get())).description(description).baseUnit(unit)
        .register(registry);
  }

  void start() {
    for (MessageEvent.Kind kind : MessageEvent.Kind.values()) {
      vertx.eventBus().<JsonObject>localConsumer(Addresses.event(kind), m -> observe(MessageEvent.fromJson(m.body())));
    }
  }

  private void observe(MessageEvent e) {
    switch (e.kind()) {
      case ACCEPTED -> {
        accepted.increment();
        Long size = committed.take(e.id());
        if (size != null) {
          acceptedBytes.increment(size);
        }
      }
      case DELIVERED, DEFERRED, FAILED -> Counter.builder("postern.deliveries")
          .description("delivery attempts of one recipient, by transport and outcome")
          .tag("transport", e.transport() == null ? "none" : e.transport()).tag("outcome", e.kind().wire())
          .register(registry).increment();
      case BOUNCED -> bounces.increment();
      case COMPLETED -> {
        // Nothing to count: the queue gauge shows the messages that are left.
      }
    }
  }

  /** Reads the queue and the retry database again (off the event loop), for a scrape. */
  Future<Void> refresh() {
    PosternConfig c = ConfigHolder.of(vertx).current();
    Path spoolDirectory = c.spoolDirectory();
    return vertx.executeBlocking(() -> {
      List<Envelope> queue = QueueListing.read(new Spool(spoolDirectory));
      long now = System.currentTimeMillis();
      long oldest = queue.stream().mapToLong(Envelope::receivedAt).min().orElse(now);
      if (retryDatabase == null || !retryDatabase.directory().startsWith(spoolDirectory)) {
        retryDatabase = new RetryDatabase(spoolDirectory, c.delivery().retryRules().dataExpire());
      }
      retryDatabase.refresh();
      snapshot.set(new Snapshot(queue.size(), (int) queue.stream().filter(Envelope::frozen).count(),
          Math.max(0, now - oldest) / 1000.0, retryDatabase.records().size()));
      return null;
    }, true);
  }
}
