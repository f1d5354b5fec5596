package org.postern.metrics;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.micrometer.core.instrument.binder.netty4.NettyEventExecutorMetrics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.shareddata.Shareable;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.micrometer.Label;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;

import java.util.EnumSet;
import java.util.function.Supplier;

/**
 * The meter registry of one node: Vert.x's own meters ({@code vertx-micrometer-metrics}: net server
 * connections, event-bus traffic, worker pools), the event loops' pending tasks, the JVM's binders (memory, GC,
 * threads, class loading, CPU) and Postern's ({@link MetricsVerticle}), scraped at {@code /metrics}.
 * One registry per Vert.x instance, never Micrometer's global one: two servers in one JVM (tests)
 * count apart. Vert.x's labels are limited to those with a bounded set of values: pool type and
 * name, HTTP method and status code; never the local or remote address.
 */
public final class NodeMeters implements Shareable {
  private static final String MAP = "postern.metrics";
  private static final EnumSet<Label> BOUNDED_LABELS = EnumSet.of(Label.POOL_TYPE, Label.POOL_NAME,
      Label.HTTP_METHOD, Label.HTTP_CODE);

  private final PrometheusMeterRegistry registry;
  /** Reads what the gauges show ({@link MetricsVerticle}); until it is deployed, nothing to read. */
  private volatile Supplier<Future<Void>> refresh = Future::succeededFuture;

  private NodeMeters(PrometheusMeterRegistry registry) {
    this.registry = registry;
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** {@code refresh} runs before each {@link #scrape()}, so the gauges it feeds are current. */
  void beforeScrape(Supplier<Future<Void>> refresh) {
    this.refresh = refresh;
  }

  /** Every meter of the node in the Prometheus text format (version 0.0.4), the gauges read first. */
  public Future<String> scrape() {
    return refresh.get().map(v -> registry.scrape());
  }

  /** A Vert.x instance (not clustered) whose meters, and Postern's, go to its own registry. */
  public static Vertx vertx(VertxOptions options) {
    PrometheusMeterRegistry registry = newRegistry();
    Vertx vertx = Vertx.builder().with(metered(options)).withMetrics(new MicrometerMetricsFactory(registry)).build();
    return attach(vertx, registry);
  }

  /** As {@link #vertx(VertxOptions)}, clustered through {@code manager}. */
  public static Future<Vertx> clustered(VertxOptions options, ClusterManager manager) {
    PrometheusMeterRegistry registry = newRegistry();
    return Vertx.builder().with(metered(options)).withClusterManager(manager)
        .withMetrics(new MicrometerMetricsFactory(registry)).buildClustered().map(v -> attach(v, registry));
  }

  /**
   * The meters of {@code vertx}; for a Vert.x made without {@link #vertx(VertxOptions)} (a tool, an
   * embedding program), a registry of its own holding Postern's meters but not Vert.x's.
   */
  public static NodeMeters of(Vertx vertx) {
    return (NodeMeters) vertx.sharedData().<String, Shareable>getLocalMap(MAP)
        .computeIfAbsent("meters", k -> new NodeMeters(newRegistry()));
  }

  private static PrometheusMeterRegistry newRegistry() {
    return new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  }

  private static VertxOptions metered(VertxOptions options) {
    return new VertxOptions(options).setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true)
        .setJvmMetricsEnabled(true).setLabels(BOUNDED_LABELS)
        // Its per-address handler gauge is registered again (with a warning) by every second
        // consumer of an address; Postern's own meters count the bus traffic that matters.
        .addDisabledMetricsCategory(MetricsDomain.EVENT_BUS));
  }

  private static Vertx attach(Vertx vertx, PrometheusMeterRegistry registry) {
    // Vert.x's own Netty meters register one gauge per event-loop group under one name (a warning on
    // every start, stderr of every queue run); the loops that run the sessions are those that matter.
    new NettyEventExecutorMetrics(((VertxInternal) vertx).eventLoopGroup()).bindTo(registry);
    vertx.sharedData().<String, Shareable>getLocalMap(MAP).put("meters", new NodeMeters(registry));
    return vertx;
  }
}
