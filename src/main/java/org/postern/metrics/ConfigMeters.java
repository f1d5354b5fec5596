package org.postern.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.vertx.core.Vertx;
import org.postern.bus.Addresses;
import org.postern.config.ConfigHolder;

import java.time.Instant;
import java.util.List;

/**
 * The configuration in force: {@code postern_config_info{generation}} (1, the generation hash as
 * {@code -bP config_generation} prints it: one series at a time, so the label is bounded), when it
 * was loaded, and the reloads this node refused ({@code postern.config.refused}, consumed
 * node-locally: a refusal on another node is counted there).
 */
final class ConfigMeters {
  private final Vertx vertx;
  private final MultiGauge info;
  private final Counter refused;

  ConfigMeters(Vertx vertx, MeterRegistry registry) {
    this.vertx = vertx;
    info = MultiGauge.builder("postern.config.info").description("the configuration generation in force (always 1)")
        .register(registry);
    refused = Counter.builder("postern.config.reload.failures")
        .description("configuration changes refused: the previous generation stayed in force").register(registry);
    Gauge.builder("postern.config.loaded.timestamp", this, ConfigMeters::loadedAt).baseUnit("seconds")
        .description("when the configuration in force was loaded, epoch seconds").register(registry);
  }

  void start() {
    vertx.eventBus().localConsumer(Addresses.CONFIG_REFUSED, m -> refused.increment());
  }

  /** Puts the generation in force now in the info row (before a scrape). */
  void refresh() {
    ConfigHolder config = ConfigHolder.of(vertx);
    if (config.isLoaded()) {
      info.register(List.of(MultiGauge.Row.of(Tags.of("generation", config.current().generation()), 1)), true);
    }
  }

  private double loadedAt() {
    Instant at = ConfigHolder.of(vertx).loadedAt();
    return at == null ? 0 : at.toEpochMilli() / 1000.0;
  }
}
