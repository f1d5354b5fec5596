package org.postern.cli;

import org.slf4j.LoggerFactory;

/** A signal the daemon acts on (SIGHUP, SIGUSR1), through the JDK's signal API where it allows it. */
final class DaemonSignal {
  private DaemonSignal() {
  }

  /** Runs {@code action} on each {@code SIG<name>}; where the JVM refuses the signal, says so once. */
  static void on(String name, String purpose, Runnable action) {
    try {
      sun.misc.Signal.handle(new sun.misc.Signal(name), s -> action.run());
    } catch (IllegalArgumentException | UnsupportedOperationException e) {
      LoggerFactory.getLogger(DaemonSignal.class).warn("SIG{} {} not available: {}", name, purpose, e.getMessage());
    }
  }
}
