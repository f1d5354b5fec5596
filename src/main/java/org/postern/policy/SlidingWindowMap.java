package org.postern.policy;

import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.util.function.UnaryOperator;

/**
 * {@link SlidingWindow} counters in a {@link WindowStore}: cluster-wide when clustered, this
 * process's otherwise. Updates are compare-and-swap ({@code putIfAbsent} /
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

  private final WindowStore store;
  private final String name;

  /** @param name the store's name; keep one per use, so that keys never collide */
  public SlidingWindowMap(Vertx vertx, String name) {
    this(WindowStore.of(vertx, name), name);
  }

  SlidingWindowMap(WindowStore store, String name) {
    this.store = store;
    this.name = name;
  }

  /**
   * Applies {@code change} to {@code key}'s window as seen at {@code now} and stores the result;
   * when {@code change} returns null (or the same window), nothing is written. On a conflicting
   * write by someone else, the change is applied again to what they wrote. Fails on any storage
   * error and on a stored value this class did not write.
   */
  public Future<Update> update(String key, long now, long period, UnaryOperator<SlidingWindow> change) {
    return store.get(key).compose(value -> attempt(key, value, now, period, change, 1));
  }

  /** {@code key}'s window as seen at {@code now}. */
  public Future<SlidingWindow> read(String key, long now, long period) {
    return store.get(key).compose(value -> {
      SlidingWindow w = value == null ? SlidingWindow.EMPTY : SlidingWindow.decode(value);
      return w == null ? Future.failedFuture(name + ": unreadable counter for " + key)
          : Future.succeededFuture(w.at(now, period));
    });
  }

  private Future<Update> attempt(String key, String stored, long now, long period,
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
      return store.putIfAbsent(key, updated, ttl).compose(existing -> existing == null
          ? Future.succeededFuture(result)
          : attempt(key, existing, now, period, change, round + 1));
    }
    return store.replaceIfPresent(key, stored, updated, ttl).compose(replaced -> replaced
        ? Future.succeededFuture(result)
        : store.get(key).compose(current -> attempt(key, current, now, period, change, round + 1)));
  }
}
