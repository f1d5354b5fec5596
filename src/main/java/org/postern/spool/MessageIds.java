package org.postern.spool;

import java.security.SecureRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Exim-style message ids, {@code TTTTTT-NNNNNN-SSSS} in base 62: seconds since the epoch, a node
 * tag chosen at start-up, and a per-node sequence. Ids sort roughly by arrival time, as Exim's do.
 *
 * <p>The node tag is random (so ids stay unique across restarts within one second). As in Exim,
 * {@code localhost_number} goes into the id when set: it is the tag's first digit, so nodes with
 * different numbers can never make the same id, which is what a cluster requires.
 */
public final class MessageIds {
  private static final char[] DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".toCharArray();
  /** Exim's limit for {@code localhost_number}. */
  public static final int MAX_LOCALHOST_NUMBER = 16;
  /** 62^5: the node tag's digits after the first. */
  private static final long TAG_REST = 916_132_832L;
  private static final long RANDOM = new SecureRandom().nextLong() & Long.MAX_VALUE;
  private static volatile long node = RANDOM;
  private static final AtomicLong SEQUENCE = new AtomicLong();
  private static final java.util.regex.Pattern SHAPE = java.util.regex.Pattern.compile(
      "[0-9A-Za-z]{6}-[0-9A-Za-z]{6}-[0-9A-Za-z]{4}");

  private MessageIds() {
  }

  /**
   * Puts {@code localhost_number} into every later id (the daemon calls it once at start-up,
   * before the first message).
   */
  public static void useLocalhostNumber(int number) {
    if (number < 0 || number > MAX_LOCALHOST_NUMBER) {
      throw new IllegalArgumentException("localhost_number must be between 0 and " + MAX_LOCALHOST_NUMBER);
    }
    node = number * TAG_REST + RANDOM % TAG_REST;
  }

  public static String next() {
    long seconds = System.currentTimeMillis() / 1000;
    long seq = SEQUENCE.getAndIncrement();
    StringBuilder sb = new StringBuilder(18);
    append(sb, seconds, 6);
    sb.append('-');
    append(sb, node, 6);
    sb.append('-');
    append(sb, seq, 4);
    return sb.toString();
  }

  /** True for strings shaped like an id: guards file names built from ids read elsewhere. */
  public static boolean isValid(String id) {
    return id != null && SHAPE.matcher(id).matches();
  }

  private static void append(StringBuilder sb, long value, int width) {
    char[] out = new char[width];
    long v = value;
    for (int i = width - 1; i >= 0; i--) {
      out[i] = DIGITS[(int) Long.remainderUnsigned(v, 62)];
      v = Long.divideUnsigned(v, 62);
    }
    sb.append(out);
  }
}
