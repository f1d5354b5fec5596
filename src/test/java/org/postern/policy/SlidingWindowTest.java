package org.postern.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/** The counter arithmetic on its own: bucket moves, overlap weighting, encoding. */
class SlidingWindowTest {
  private static final long P = 60_000;

  @Test
  void bucketsMoveBackThenFallOut() {
    SlidingWindow w = new SlidingWindow(10, 4, 2);
    assertEquals(w, w.at(10 * P + 59_999, P));
    assertEquals(new SlidingWindow(11, 0, 4), w.at(11 * P, P));
    assertEquals(new SlidingWindow(12, 0, 0), w.at(12 * P, P));
  }

  @Test
  void aClockBehindTheStoredBucketDoesNotMoveTheWindowBack() {
    SlidingWindow w = new SlidingWindow(10, 4, 2);
    assertEquals(w, w.at(9 * P, P));
    // Measured from before the bucket it counts the previous bucket whole: never less than stored.
    assertEquals(6.0, w.rate(9 * P, P));
  }

  @Test
  void thePreviousBucketWeighsByItsOverlapWithTheWindow() {
    SlidingWindow w = new SlidingWindow(10, 3, 8);
    assertEquals(11.0, w.rate(10 * P, P));
    assertEquals(7.0, w.rate(10 * P + P / 2, P));
    assertEquals(5.0, w.rate(10 * P + 3 * P / 4, P));
  }

  @Test
  void encodesAndRefusesWhatItDidNotWrite() {
    SlidingWindow w = new SlidingWindow(29_000_000L, 5, 0);
    assertEquals(w, SlidingWindow.decode(w.encode()));
    assertNull(SlidingWindow.decode("not a counter"));
    assertNull(SlidingWindow.decode("1:2"));
    assertNull(SlidingWindow.decode("1:2:x"));
  }
}
