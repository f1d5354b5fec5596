package org.postern.policy;

/**
 * A sliding-window counter: the count of the current fixed bucket (one period long, aligned to the
 * epoch) and of the one before, the previous weighted by how much of it still overlaps the window
 * that ends now. Two numbers per key, whatever the traffic, which is what makes it cheap to keep in
 * a cluster-wide map.
 *
 * <p>Error bound: the estimate assumes the previous bucket's events were spread evenly over it. It
 * is exact when they were; otherwise it is off by at most the previous bucket's count times the
 * part of that bucket still inside the window (so at most one period's worth of events, and never
 * anything from more than two periods ago). At a bucket boundary it is exact.
 *
 * <p>Stored as a String, {@code bucket:current:previous}, so that any cluster manager can compare
 * and serialize it.
 *
 * @param bucket index of the current bucket ({@code millis / period})
 * @param current events counted in that bucket
 * @param previous events counted in the bucket before it
 */
record SlidingWindow(long bucket, long current, long previous) {

  static final SlidingWindow EMPTY = new SlidingWindow(0, 0, 0);

  /** The state as seen at {@code now}: buckets that ended move back or fall out. */
  SlidingWindow at(long now, long period) {
    long n = Math.floorDiv(now, period);
    // Another node's clock may be a little ahead: never move a window backwards.
    if (n <= bucket) {
      return this;
    }
    if (n == bucket + 1) {
      return new SlidingWindow(n, 0, current);
    }
    return new SlidingWindow(n, 0, 0);
  }

  /** Events in the window {@code (now - period, now]}, estimated; call on a state from {@link #at}. */
  double rate(long now, long period) {
    long into = Math.max(0, Math.min(period, now - bucket * period));
    double overlap = 1.0 - (double) into / period;
    return current + previous * overlap;
  }

  SlidingWindow plus(long events) {
    return new SlidingWindow(bucket, Math.addExact(current, events), previous);
  }

  String encode() {
    return bucket + ":" + current + ":" + previous;
  }

  /** Null for a value this class did not write: the caller defers rather than guess. */
  static SlidingWindow decode(String value) {
    String[] parts = value.split(":", -1);
    if (parts.length != 3) {
      return null;
    }
    try {
      return new SlidingWindow(Long.parseLong(parts[0]), Long.parseLong(parts[1]), Long.parseLong(parts[2]));
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
