package org.postern.config;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RetryScheduleTest {
  private static final Instant T0 = Instant.parse("2026-01-05T10:00:00Z");
  private static final RetrySchedule DEFAULT =
      RetrySchedule.parse("F,2h,15m; G,16h,1h,1.5; F,4d,6h", Duration.ofHours(24), new Random());

  private static Instant min(long m) {
    return T0.plusSeconds(m * 60);
  }

  /** Feeds failures to the schedule at exactly each computed retry time, as a busy queue runner would. */
  private static RetrySchedule.Outcome failAt(long minute, long[] state) {
    // state: firstFailed, lastTry, nextTry in minutes (-1 when no record)
    Instant now = min(minute);
    boolean fresh = state[0] < 0;
    RetrySchedule.Outcome o = DEFAULT.next(fresh ? now : min(state[0]), fresh ? now : min(state[1]),
        fresh ? now : min(state[2]), now, null, true);
    if (fresh) {
      state[0] = minute;
    }
    state[1] = minute;
    state[2] = Duration.between(T0, o.nextTry()).toMinutes();
    return o;
  }

  @Test
  void defaultRuleFollowsEximsProgression() {
    long[] s = {-1, -1, -1};
    assertEquals(min(15), failAt(0, s).nextTry());
    assertEquals(min(30), failAt(15, s).nextTry());
    long t = 30;
    while (t < 120) {
      RetrySchedule.Outcome o = failAt(t, s);
      assertEquals(min(t + 15), o.nextTry(), "F,2h,15m until 2h after the first failure");
      t += 15;
    }
    // t = 120: still within 2h (the cutoff is inclusive) -> 15m.
    assertEquals(min(135), failAt(120, s).nextTry());
    // Past 2h: G,16h,1h,1.5. The previous gap (15m) is below the initial 1h, so 1h.
    assertEquals(min(195), failAt(135, s).nextTry());
    // Then 1.5 times the previous gap: 90m, 135m, 202.5m (Exim's integer seconds).
    assertEquals(min(195 + 90), failAt(195, s).nextTry());
    assertEquals(min(285 + 135), failAt(285, s).nextTry());
    RetrySchedule.Outcome o = failAt(420, s);
    assertEquals(min(420).plusSeconds(202 * 60 + 30), o.nextTry());
    assertFalse(o.expired());
    assertFalse(o.giveUp());
  }

  @Test
  void geometricUsesTheShorterOfPredictedAndActualGap() {
    // Predicted gap 2h, but the queue runner came back after only 1h20m: grows from 1h20m.
    RetrySchedule.Outcome o = DEFAULT.next(min(0), min(180), min(300), min(260), null, true);
    assertEquals(min(260 + 120), o.nextTry());
    // Came back late (5h instead of 2h): grows from the predicted 2h, not the actual 5h.
    o = DEFAULT.next(min(0), min(180), min(300), min(480), null, true);
    assertEquals(min(480 + 180), o.nextTry());
  }

  @Test
  void afterSixteenHoursSixHourlyUntilFourDays() {
    RetrySchedule.Outcome o = DEFAULT.next(min(0), min(900), min(1000), min(17 * 60), null, true);
    assertEquals(min(17 * 60 + 360), o.nextTry());
    o = DEFAULT.next(min(0), min(0), min(0), min(4 * 24 * 60), null, true);
    assertFalse(o.giveUp(), "exactly at the final cutoff is still within it");
  }

  @Test
  void pastTheFinalCutoffTheFailureGivesUpAndARetryTimeIsStillComputed() {
    Instant now = min(4 * 24 * 60 + 1);
    RetrySchedule.Outcome o = DEFAULT.next(min(0), min(4 * 24 * 60 - 300), min(4 * 24 * 60 + 60), now, null, true);
    assertTrue(o.expired());
    assertTrue(o.giveUp());
    assertEquals(now.plus(Duration.ofHours(6)), o.nextTry(), "the final algorithm sets the post-cutoff retry time");
  }

  @Test
  void threeArgumentFormStartsAFreshRecord() {
    assertEquals(min(15), DEFAULT.next(min(0), min(0), min(0)).nextTry());
    assertEquals(min(135 + 60), DEFAULT.next(min(0), min(120), min(135)).nextTry());
  }

  @Test
  void messageOlderThanTheFinalCutoffGivesUpAndMakesTheDestinationDueNow() {
    // The destination has failed only for an hour (deliveries in between succeeded), but this
    // message arrived five days ago.
    Instant now = min(5 * 24 * 60);
    Instant firstFailed = now.minus(Duration.ofHours(1));
    RetrySchedule.Outcome host = DEFAULT.next(firstFailed, firstFailed, firstFailed.plusSeconds(900), now,
        min(0), true);
    assertTrue(host.giveUp());
    assertFalse(host.expired());
    assertEquals(now, host.nextTry());
  }

  @Test
  void addressErrorsCountTheMessageAgeAsFailingTime() {
    // Address (R:) record failing for 1h, message 3h old: the G rule applies, not F,2h,15m.
    Instant now = min(180);
    RetrySchedule.Outcome address = DEFAULT.next(min(120), min(165), min(180), now, min(0), false);
    assertEquals(now.plus(Duration.ofHours(1)), address.nextTry());
    RetrySchedule.Outcome host = DEFAULT.next(min(120), min(165), min(180), now, min(0), true);
    assertEquals(now.plus(Duration.ofMinutes(15)), host.nextTry());
  }

  @Test
  void intervalIsCappedByRetryIntervalMax() {
    RetrySchedule s = RetrySchedule.parse("F,10d,2d", Duration.ofHours(24), new Random());
    assertEquals(min(24 * 60), s.next(min(0), min(0), min(0)).nextTry());
    RetrySchedule g = RetrySchedule.parse("G,10d,1h,10", Duration.ofHours(5), new Random());
    assertEquals(min(60 + 300), g.next(min(0), min(0), min(60), min(60), null, true).nextTry());
  }

  @Test
  void emptyScheduleGivesUpAtOnce() {
    RetrySchedule.Outcome o = RetrySchedule.none().next(min(0), min(0), min(0));
    assertTrue(o.giveUp());
    assertEquals(min(0), o.nextTry());
  }

  @Test
  void randomScheduleStaysBetweenInitialAndGeometric() {
    Random lowest = new Random() {
      @Override
      public long nextLong(long bound) {
        return 0;
      }
    };
    Random highest = new Random() {
      @Override
      public long nextLong(long bound) {
        return bound - 1;
      }
    };
    String spec = "H,1d,1h,2";
    // Previous gap 2h -> geometric 4h; the interval lies in [1h + 1.5h, 4h).
    RetrySchedule low = RetrySchedule.parse(spec, Duration.ofHours(24), lowest);
    RetrySchedule high = RetrySchedule.parse(spec, Duration.ofHours(24), highest);
    assertEquals(min(240 + 150), low.next(min(0), min(120), min(240), min(240), null, true).nextTry());
    assertEquals(min(240).plusSeconds(3600 + 10799 / 2 + 5400),
        high.next(min(0), min(120), min(240), min(240), null, true).nextTry());
    // Below the initial interval, H behaves as G: the initial interval.
    assertEquals(min(10 + 60), low.next(min(0), min(0), min(10), min(10), null, true).nextTry());
  }
}
