package org.postern.cli;

import io.vertx.core.Vertx;
import org.postern.bus.Addresses;
import org.slf4j.LoggerFactory;

/** SIGHUP re-reads the configuration, as it does for Exim. */
final class HangupSignal {
  private HangupSignal() {
  }

  static void install(Vertx vertx) {
    try {
      sun.misc.Signal.handle(new sun.misc.Signal("HUP"), s -> vertx.eventBus().request(Addresses.CONFIG_RELOAD, null));
    } catch (IllegalArgumentException | UnsupportedOperationException e) {
      LoggerFactory.getLogger(HangupSignal.class).warn("SIGHUP reload not available: {}", e.getMessage());
    }
  }
}
