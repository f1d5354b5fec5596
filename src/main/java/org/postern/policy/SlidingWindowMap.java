package org.postern.policy;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.AsyncMap;

import java.util.function.UnaryOperator;

/**
 * {@link SlidingWindow} counters in a Vert.x async map: cluster-wide when Vert.x is clustered,
 * this process's otherwise. Updates are compare-and-swap ({@code putIfAbsent} /
 * {@code replaceIfPresent}) retried on conflict, so concurrent updates on any node never lose or
 * double an event. Every write carries a TTL of two periods: a key nobody uses disappears, and by
 * then its window would be empty anyway.
 */
public final class SlidingWindowMap {
  /** Compare-and-swap rounds before giving up: only under absurd contention. */
  static final int MAX_ATTEMPTS = 100;

  /**
   * What one update found and did.
   *
   * @param before the key's window as seen at {@code now}, before the change
   * @param stored true when the change was written
   */
  public record Update(SlidingWindow before, boolean stored) {
  }

  private final Vertx vertx;
  private final String name;

  /** @param name the async map's name; keep one per use, so that keys never collide */
  public SlidingWindowMap(Vertx vertx, String name) {
    this.vertx = vertx;
    this.name = name;
  }

  /**
   * Applies {@code change} to {@code key}'s window as seen at {@code now} and stores the result;
   * when {@code change} returns null (or the same window), nothing is written. On a conflicting
   * write by someone else, the change is applied again to what they wrote. Fails on any storage
   * error and on a stored value this class did not write.
   */
  public Future<Update> update(String key, long now, long period, UnaryOperator<SlidingWindow> change) {
    return map().compose(map -> map.get(key).compose(value -> attempt(map, key, value, now, period, change, 1)));
  }

  /** {@code key}'s window as seen at {@code now}. */
  public Future<SlidingWindow> read(String key, long now, long period) {
    return map().compose(map -> map.get(key)).compose(value -> {
      SlidingWindow w = value == null ? SlidingWindow.EMPTY : SlidingWindow.decode(value);
      return w == null ? Future.failedFuture(name + ": unreadable counter for " + key)
          : Future.succeededFuture(w.at(now, period));
    });
  }

  private Future<AsyncMap<String, String>> map() {
    return vertx.sharedData().getAsyncMap(name);
  }

  private Future<Update> attempt(AsyncMap<String, String> map, String key, String stored, long now, long period,
                                 UnaryOperator<SlidingWindow> change, int round) {
    SlidingWindow decoded = stored == null ? SlidingWindow.EMPTY : SlidingWindow.decode(stored);
    if (decoded == null) {
      return Future.failedFuture(name + ": unreadable counter for " + key);
    }
    SlidingWindow before = decoded.at(now, period);
    SlidingWindow after = change.apply(before);
    if (after == null || after.equals(before)) {
      return Future.succeededFuture(new Update(before, false));
    }
    if (round > MAX_ATTEMPTS) {
      return Future.failedFuture(name + ": " + key + " still contended after " + MAX_ATTEMPTS + " attempts");
    }
    String updated = after.encode();
    long ttl = 2 * period;
    Update result = new Update(before, true);
    if (stored == null) {
      // A null answer means it was absent and is now ours; otherwise build on what is there.
      return map.putIfAbsent(key, updated, ttl).compose(existing -> existing == null
          ? Future.succeededFuture(result)
          : attempt(map, key, existing, now, period, change, round + 1));
    }
    return map.replaceIfPresent(key, stored, updated, ttl).compose(replaced -> replaced
        ? Future.succeededFuture(result)
        : map.get(key).compose(current -> attempt(map, key, current, now, period, change, round + 1)));
  }
}
