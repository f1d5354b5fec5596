package org.postern.policy;

import io.vertx.core.Future;
import io.vertx.core.Vertx;

/**
 * The {@code ratelimit} counters, {@link SlidingWindowMap} windows in the {@link WindowStore}
 * {@value #MAP} (cluster-wide when clustered), and the per-connection and per-transaction markers
 * beside them.
 */
final class RatelimitStore {
  /** The shared map's name. */
  static final String MAP = "postern.ratelimit";

  /**
   * What one evaluation found.
   *
   * @param rate events in the window, this one included (whether or not it was stored)
   * @param counted true when this evaluation's events were added to the stored count
   */
  record Measurement(double rate, boolean counted) {
  }

  private final WindowStore store;
  private final SlidingWindowMap windows;

  RatelimitStore(Vertx vertx) {
    this.store = WindowStore.of(vertx, MAP);
    this.windows = new SlidingWindowMap(store, MAP);
  }

  /**
   * Measures {@code key}'s rate at {@code now} with {@code events} more, and stores the new count
   * when {@code spec} says this evaluation counts: never for noupdate, and for leaky only when the
   * rate does not exceed the limit. Fails on any storage error.
   */
  Future<Measurement> count(String key, long events, RatelimitSpec spec, long now) {
    long period = spec.periodMillis();
    return windows.update(key, now, period, window -> {
      boolean over = window.rate(now, period) + events > spec.limit();
      return events == 0 || spec.readonly() || (over && !spec.strict()) ? null : window.plus(events);
    }).map(u -> new Measurement(u.before().rate(now, period) + events, u.stored()));
  }

  /** True when {@code marker} is set: this connection or transaction was already counted. */
  Future<Boolean> seen(String marker) {
    return store.get(marker).map(v -> v != null);
  }

  /** Sets {@code marker} for {@code ttl} ms. */
  Future<Void> markSeen(String marker, long ttl) {
    return store.put(marker, "1", ttl);
  }
}
