package org.postern.metrics;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What a request was about (a command's verb, an ACL's stage, a SASL mechanism, a message's size),
 * kept under a key (the request's reply address, a spool id) until its outcome passes, so the
 * outcome is counted with it: the reply records carry the outcome, not the question. A request whose
 * outcome never comes (a timeout, a failed commit) leaves its entry behind, so {@link #sweep} drops
 * entries older than an outcome can be; the map holds at most the requests of that last interval.
 */
final class Pending<T> {
  private record Entry<T>(T value, long since) {
  }

  private final Map<String, Entry<T>> entries = new ConcurrentHashMap<>();

  void put(String key, T value, long now) {
    if (key != null) {
      entries.put(key, new Entry<>(value, now));
    }
  }

  /** The value kept under {@code key}, removed; null when there is none (not an outcome this waits for). */
  T take(String key) {
    Entry<T> e = key == null ? null : entries.remove(key);
    return e == null ? null : e.value();
  }

  void sweep(long olderThan) {
    entries.values().removeIf(e -> e.since() < olderThan);
  }
}
