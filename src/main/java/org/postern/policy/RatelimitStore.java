package org.postern.policy;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.AsyncMap;

/**
 * The {@code ratelimit} counters, in the Vert.x async map {@value #MAP}: cluster-wide when Vert.x is
 * clustered, this process's otherwise. Updates are compare-and-swap ({@code putIfAbsent} /
 * {@code replaceIfPresent}) retried on conflict, so concurrent evaluations on any node never lose a
 * count. Every write carries a TTL of two periods: a key nobody uses disappears, and by then its
 * window would be empty anyway.
 */
final class RatelimitStore {
  /** The shared map's name. */
  static final String MAP = "postern.ratelimit";
  /** Compare-and-swap rounds before giving up (and deferring): only under absurd contention. */
  static final int MAX_ATTEMPTS = 100;

  /**
   * What one evaluation found.
   *
   * @param rate events in the window, this one included (whether or not it was stored)
   * @param counted true when this evaluation's events were added to the stored count
   */
  record Measurement(double rate, boolean counted) {
  }

  private final Vertx vertx;

  RatelimitStore(Vertx vertx) {
    this.vertx = vertx;
  }

  private Future<AsyncMap<String, String>> map() {
    return vertx.sharedData().getAsyncMap(MAP);
  }

  /**
   * Measures {@code key}'s rate at {@code now} with {@code events} more, and stores the new count
   * when {@code spec} says this evaluation counts: never for noupdate, and for leaky only when the
   * rate does not exceed the limit. Fails on any storage error.
   */
  Future<Measurement> count(String key, long events, RatelimitSpec spec, long now) {
    return map().compose(map -> map.get(key).compose(value -> attempt(map, key, value, events, spec, now, 1)));
  }

  private Future<Measurement> attempt(AsyncMap<String, String> map, String key, String stored, long events,
                                      RatelimitSpec spec, long now, int round) {
    SlidingWindow before = stored == null ? SlidingWindow.EMPTY : SlidingWindow.decode(stored);
    if (before == null) {
      return Future.failedFuture("ratelimit: unreadable counter for " + key);
    }
    long period = spec.periodMillis();
    SlidingWindow window = before.at(now, period);
    double rate = window.rate(now, period) + events;
    boolean over = rate > spec.limit();
    if (events == 0 || spec.readonly() || (over && !spec.strict())) {
      return Future.succeededFuture(new Measurement(rate, false));
    }
    if (round > MAX_ATTEMPTS) {
      return Future.failedFuture("ratelimit: " + key + " still contended after " + MAX_ATTEMPTS + " attempts");
    }
    String updated = window.plus(events).encode();
    long ttl = 2 * period;
    Measurement result = new Measurement(rate, true);
    if (stored == null) {
      // A null answer means it was absent and is now ours; otherwise build on what is there.
      return map.putIfAbsent(key, updated, ttl).compose(existing -> existing == null
          ? Future.succeededFuture(result)
          : attempt(map, key, existing, events, spec, now, round + 1));
    }
    return map.replaceIfPresent(key, stored, updated, ttl).compose(replaced -> replaced
        ? Future.succeededFuture(result)
        : map.get(key).compose(current -> attempt(map, key, current, events, spec, now, round + 1)));
  }

  /** True when {@code marker} is set: this connection or transaction was already counted. */
  Future<Boolean> seen(String marker) {
    return map().compose(map -> map.get(marker)).map(v -> v != null);
  }

  /** Sets {@code marker} for {@code ttl} ms. */
  Future<Void> markSeen(String marker, long ttl) {
    return map().compose(map -> map.put(marker, "1", ttl));
  }
}
