package org.postern.listener;

import java.util.ArrayDeque;

/**
 * The byte arrays that {@link SmtpLineDecoder}s let go of, kept per thread for the next decoder
 * that needs one. An idle connection holds no buffer (thousands of them are the normal case), so
 * every command line and every message used to cost a new array: 512 bytes per command, and the
 * doublings up to a network read's size per message, an eighth of what the receive path
 * allocated. Arrays are handed out to one decoder at a time: a decoder gives its array back only
 * once it holds no reference to it (its events carry copies). Bounded in count and size, so a
 * burst of large messages leaves at most {@value #MAX_KEPT} arrays of {@value #MAX_SIZE} bytes
 * per event loop.
 */
final class DecoderBuffers {
  static final int MAX_KEPT = 16;
  static final int MAX_SIZE = 64 * 1024;
  private static final ThreadLocal<ArrayDeque<byte[]>> KEPT = ThreadLocal.withInitial(ArrayDeque::new);

  private DecoderBuffers() {
  }

  /** An array of at least {@code size} bytes, whose content is undefined. */
  static byte[] take(int size) {
    ArrayDeque<byte[]> kept = KEPT.get();
    byte[] b = kept.pollLast();
    if (b != null && b.length >= size) {
      return b;
    }
    // Too small for this caller: dropped rather than kept, so the arrays kept grow with the use.
    return new byte[size];
  }

  /** Gives back an array its holder no longer uses. */
  static void give(byte[] b) {
    if (b.length == 0 || b.length > MAX_SIZE) {
      return;
    }
    ArrayDeque<byte[]> kept = KEPT.get();
    if (kept.size() < MAX_KEPT) {
      kept.addLast(b);
    }
  }
}
