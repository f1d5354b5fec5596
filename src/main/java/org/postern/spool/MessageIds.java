package org.postern.spool;

import java.security.SecureRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Exim-style message ids, {@code TTTTTT-NNNNNN-SSSS} in base 62: seconds since the epoch, a random
 * node tag chosen at start-up (so ids stay unique across a cluster and across restarts within one
 * second), and a per-node sequence. Ids sort roughly by arrival time, as Exim's do.
 */
public final class MessageIds {
  private static final char[] DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".toCharArray();
  private static final long NODE = new SecureRandom().nextLong() & Long.MAX_VALUE;
  private static final AtomicLong SEQUENCE = new AtomicLong();
  private static final java.util.regex.Pattern SHAPE = java.util.regex.Pattern.compile(
      "[0-9A-Za-z]{6}-[0-9A-Za-z]{6}-[0-9A-Za-z]{4}");

  private MessageIds() {
  }

  public static String next() {
    long seconds = System.currentTimeMillis() / 1000;
    long seq = SEQUENCE.getAndIncrement();
    StringBuilder sb = new StringBuilder(18);
    append(sb, seconds, 6);
    sb.append('-');
    append(sb, NODE, 6);
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
