package org.postern.listener;

import io.vertx.core.Vertx;
import io.vertx.core.shareddata.Shareable;
import org.postern.config.LogRate;
import org.postern.log.MainLog;

import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Main-log lines that a client can multiply at will — failed TLS handshakes, connections refused by
 * a limit — written at most {@code connection_error_log_rate} times per client address and window.
 * A scanner such as testssl.sh makes hundreds of failed handshakes; one line each would flood the
 * log and bury everything else. The first line held back says so, and when the window ends one line
 * gives the count that was not written. Shared by every listener instance of a node.
 */
public final class ConnectionErrorLog implements Shareable {
  private final Clock clock;
  private final Consumer<String> out;
  /** Per client address, changed only inside {@code compute}: atomic per key across event loops. */
  private final Map<String, Window> windows = new ConcurrentHashMap<>();

  ConnectionErrorLog(Clock clock, Consumer<String> out) {
    this.clock = clock;
    this.out = out;
  }

  /** The node's log, writing to the main log. */
  public static ConnectionErrorLog of(Vertx vertx) {
    return (ConnectionErrorLog) vertx.sharedData().<String, Shareable>getLocalMap("postern.listener")
        .computeIfAbsent("connection-error-log", k -> new ConnectionErrorLog(Clock.systemUTC(), MainLog::write));
  }

  /** Writes {@code line} about {@code host}, unless that host has used up its lines for this window. */
  public void write(String host, String line, LogRate rate) {
    if (rate.unlimited()) {
      out.accept(line);
      return;
    }
    Instant now = clock.instant();
    List<String> lines = new ArrayList<>(2);
    windows.compute(host, (h, w) -> {
      Window window = w;
      if (window == null || window.expired(now)) {
        if (window != null) {
          window.summary(h).ifPresent(lines::add);
        }
        window = new Window(now, rate);
      }
      if (window.written < rate.lines()) {
        window.written++;
        lines.add(line);
      } else if (window.heldBack++ == 0) {
        lines.add("Connection errors from [" + h + "]: further lines not logged until " + window.end()
            + " (connection_error_log_rate=" + rate + ")");
      }
      return window;
    });
    lines.forEach(out);
  }

  /** Ends the windows that are over, with their summaries; called every second. */
  public void flush() {
    Instant now = clock.instant();
    for (String host : List.copyOf(windows.keySet())) {
      List<String> lines = new ArrayList<>(1);
      windows.computeIfPresent(host, (h, w) -> {
        if (!w.expired(now)) {
          return w;
        }
        w.summary(h).ifPresent(lines::add);
        return null;
      });
      lines.forEach(out);
    }
  }

  private static final class Window {
    private final Instant start;
    private final LogRate rate;
    private int written;
    private int heldBack;

    Window(Instant start, LogRate rate) {
      this.start = start;
      this.rate = rate;
    }

    Instant end() {
      return start.plus(rate.window()).truncatedTo(ChronoUnit.SECONDS);
    }

    boolean expired(Instant now) {
      return !now.isBefore(end());
    }

    Optional<String> summary(String host) {
      return heldBack == 0 ? Optional.empty() : Optional.of("Connection errors from [" + host
          + "]: " + heldBack + " more not logged between " + start.truncatedTo(ChronoUnit.SECONDS) + " and " + end()
          + " (connection_error_log_rate=" + rate + ")");
    }
  }
}
