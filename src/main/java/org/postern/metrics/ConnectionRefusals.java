package org.postern.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.postern.bus.Addresses;
import org.postern.bus.ConnectionRefused;

/** Connections refused by a limit ({@link ConnectionRefused}), by the limit's option name. */
final class ConnectionRefusals {
  private final Vertx vertx;
  private final MeterRegistry registry;

  ConnectionRefusals(Vertx vertx, MeterRegistry registry) {
    this.vertx = vertx;
    this.registry = registry;
  }

  void start() {
    vertx.eventBus().<JsonObject>localConsumer(Addresses.CONNECTION_REFUSED, m -> Counter
        .builder("postern.connections.refused").description("connections refused by a limit, by the limit's option")
        .tag("limit", ConnectionRefused.fromJson(m.body()).limit()).register(registry).increment());
  }
}
