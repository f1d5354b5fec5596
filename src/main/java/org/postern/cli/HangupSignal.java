package org.postern.cli;

import io.vertx.core.Vertx;
import org.postern.bus.Addresses;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** SIGHUP re-reads the configuration, as it does for Exim. */
final class HangupSignal {
  private static final Logger LOG = LoggerFactory.getLogger(HangupSignal.class);

  private HangupSignal() {
  }

  static void install(Vertx vertx) {
    DaemonSignal.on("HUP", "reload", () -> {
      // Before the reload: the operator (and a test) can tell a reload the signal caused from the watcher's.
      LOG.info("SIGHUP received: re-reading the configuration");
      vertx.eventBus().request(Addresses.CONFIG_RELOAD, null);
    });
  }
}
