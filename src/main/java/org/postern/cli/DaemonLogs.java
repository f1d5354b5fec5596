package org.postern.cli;

import io.vertx.core.Vertx;
import org.postern.bus.Addresses;
import org.postern.config.ConfigHolder;
import org.postern.log.MainLog;

/**
 * The daemon's log files: it alone rotates them, as {@code log_rotate_size} and
 * {@code log_keep_days} say (read again after every reload), and SIGUSR1 reopens them by name for
 * an external logrotate, as nginx and Postfix's postlog users expect.
 */
final class DaemonLogs {
  private DaemonLogs() {
  }

  static void install(Vertx vertx) {
    ConfigHolder holder = ConfigHolder.of(vertx);
    MainLog.rotation(holder.current().logRotation());
    vertx.eventBus().consumer(Addresses.CONFIG_CHANGED, m -> MainLog.rotation(holder.current().logRotation()));
    DaemonSignal.on("USR1", "log reopen", () -> {
      MainLog.reopen();
      // The first line in the new file says why it begins there.
      MainLog.write("log files reopened on SIGUSR1");
    });
  }
}
