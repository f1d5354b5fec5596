package org.postern.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryContext;

import java.util.List;

/**
 * Counts what the node does from the event bus alone, so no verticle carries metering code: one
 * outbound interceptor sees every request and reply the verticles exchange (the session, ACL and
 * AUTH records, {@link SessionMeters}, {@link PolicyMeters}), and node-local consumers take the
 * published events ({@link QueueMeters}, {@link ConfigMeters}, connection refusals). The meters go
 * to the node's registry ({@link NodeMeters}), which {@link MetricsEndpoint} serves. One instance
 * per node; it never changes a message and never blocks the sender.
 */
public final class MetricsVerticle extends VerticleBase {
  /** Longer than any request's send timeout: an outcome cannot come later than this. */
  private static final long PENDING_MS = 5 * 60_000;

  private Handler<DeliveryContext<Object>> interceptor;

  @Override
  public Future<?> start() {
    MeterRegistry registry = NodeMeters.of(vertx).registry();
    Pending<Long> committed = new Pending<>();
    List<BusObserver> observers = List.of(new SessionMeters(registry, committed), new PolicyMeters(registry));
    interceptor = ctx -> {
      try {
        long now = System.currentTimeMillis();
        for (BusObserver o : observers) {
          o.sent(ctx.message(), ctx.body(), now);
        }
      } finally {
        ctx.next();
      }
    };
    vertx.eventBus().addOutboundInterceptor(interceptor);
    vertx.setPeriodic(PENDING_MS, t -> {
      long olderThan = System.currentTimeMillis() - PENDING_MS;
      observers.forEach(o -> o.sweep(olderThan));
      committed.sweep(olderThan);
    });
    QueueMeters queue = new QueueMeters(vertx, registry, committed);
    queue.start();
    ConfigMeters config = new ConfigMeters(vertx, registry);
    config.start();
    new ConnectionRefusals(vertx, registry).start();
    NodeMeters.of(vertx).beforeScrape(() -> {
      config.refresh();
      return queue.refresh();
    });
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    vertx.eventBus().removeOutboundInterceptor(interceptor);
    return Future.succeededFuture();
  }
}
