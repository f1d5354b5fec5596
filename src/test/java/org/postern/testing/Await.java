package org.postern.testing;

import java.util.function.Predicate;

/**
 * The suite's one way to wait: poll something a test can observe (the spool, a mailbox, the main
 * log, a reply) until it holds or a deadline passes. Tests wait for events this way instead of
 * sleeping, so a slow machine only makes them slower, never wrong, and a fast one never waits long.
 */
public final class Await {
  /** How often a condition is looked at again: short next to every deadline the suite uses. */
  private static final long POLL_MILLIS = 20;

  /** Something observable that holds or not yet (may read files or the network). */
  @FunctionalInterface
  public interface Condition {
    boolean holds() throws Exception;
  }

  /** Reads an observable value (may read files or the network). */
  @FunctionalInterface
  public interface Probe<T> {
    T read() throws Exception;
  }

  private Await() {
  }

  /** Waits up to {@code millis} for {@code condition}; fails naming {@code what} if it never holds. */
  public static void until(String what, long millis, Condition condition) throws Exception {
    if (!holdsWithin(millis, condition)) {
      throw new AssertionError("timed out after " + millis + " ms waiting for " + what);
    }
  }

  /** Waits up to {@code millis} for {@code condition}; whether it held (for a caller with its own message). */
  public static boolean holdsWithin(long millis, Condition condition) throws Exception {
    return value(millis, () -> condition.holds(), Boolean::booleanValue);
  }

  /**
   * Reads {@code probe} until {@code done} accepts its value or {@code millis} pass; returns the last
   * value read, so the caller asserts on what was actually seen.
   */
  public static <T> T value(long millis, Probe<T> probe, Predicate<? super T> done) throws Exception {
    long end = System.nanoTime() + millis * 1_000_000;
    T value = probe.read();
    while (!done.test(value) && System.nanoTime() - end < 0) {
      // The one pause of the suite's waits: between two looks at the state, never instead of one.
      Thread.sleep(POLL_MILLIS);
      value = probe.read();
    }
    return value;
  }
}
