package org.postern.config;

import org.postern.expand.EximTime;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * The timing part of a retry rule, e.g. {@code F,2h,15m; G,16h,1h,1.5; F,4d,6h}: a list of
 * algorithms, each applying until its cutoff, measured from the first failure.
 * <ul>
 *   <li>{@code F,<cutoff>,<interval>}: fixed interval;</li>
 *   <li>{@code G,<cutoff>,<initial>,<multiplier>}: each interval is the previous one times the
 *       multiplier, at least the initial one;</li>
 *   <li>{@code H,<cutoff>,<initial>,<multiplier>}: as G, but the interval is chosen at random
 *       between the initial one and the geometric one, so that cluster members do not synchronise.</li>
 * </ul>
 * An empty schedule means no retries: the first temporary failure is final.
 *
 * <p>{@link #next} follows Exim's {@code retry_update()} (src/retry.c) and the Exim specification,
 * chapter "Retry configuration", sections "Retry rule parameters" and "Long-term failures":
 * the algorithm used is the first whose cutoff is not yet passed by the time the destination has
 * been failing; once the final cutoff is passed the destination is <em>expired</em>, the
 * next retry time is still computed from the final algorithm (for the one post-cutoff attempt new
 * messages get), and the failure that found it expired gives up on the address. Independently,
 * a message that has been queued longer than the final cutoff gives up on its first failure after
 * that, with the next retry time set to now so that other such messages are tried too. Every
 * interval is capped by {@code retry_interval_max}. Immutable; the {@link Random} is only used by H.
 */
public final class RetrySchedule {
  /** Exim's three retry algorithms. */
  public enum Algorithm { F, G, H }

  /**
   * One algorithm and its parameters.
   *
   * @param multiplier 1 for {@code F}
   */
  public record Step(Algorithm algorithm, Duration cutoff, Duration interval, double multiplier) {
  }

  /**
   * The result of a failure.
   *
   * @param nextTry  earliest time for the next attempt to the destination
   * @param expired  the destination has been failing for longer than the final cutoff (kept in the
   *                 retry record: until {@code nextTry}, addresses routed to it fail at once)
   * @param giveUp   the address that just failed is to be bounced now
   */
  public record Outcome(Instant nextTry, boolean expired, boolean giveUp) {
  }

  private static final RetrySchedule NONE = new RetrySchedule(List.of(), Duration.ofHours(24), new Random());
  private final List<Step> steps;
  private final Duration intervalMax;
  private final Random random;

  RetrySchedule(List<Step> steps, Duration intervalMax, Random random) {
    this.steps = List.copyOf(steps);
    this.intervalMax = intervalMax;
    this.random = random;
  }

  /** No retries at all. */
  public static RetrySchedule none() {
    return NONE;
  }

  /**
   * Parses {@code F,2h,15m; G,16h,1h,1.5}; an empty text is {@link #none()}.
   *
   * @throws IllegalArgumentException with a reason naming the faulty item
   */
  public static RetrySchedule parse(String text, Duration intervalMax, Random random) {
    List<Step> steps = new ArrayList<>();
    for (String item : text.split(";")) {
      String it = item.trim();
      if (it.isEmpty()) {
        continue;
      }
      String[] f = it.split(",", -1);
      Algorithm a;
      try {
        a = Algorithm.valueOf(f[0].trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("unknown retry algorithm \"" + f[0].trim() + "\" in \"" + it
            + "\" (use F, G or H)");
      }
      int expected = a == Algorithm.F ? 3 : 4;
      if (f.length != expected) {
        throw new IllegalArgumentException("\"" + it + "\": " + a + " takes "
            + (a == Algorithm.F ? "<cutoff>,<interval>" : "<cutoff>,<initial>,<multiplier>"));
      }
      Duration cutoff = positive(f[1], it, "cutoff");
      Duration interval = positive(f[2], it, "interval");
      double multiplier = 1;
      if (a != Algorithm.F) {
        try {
          multiplier = Double.parseDouble(f[3].trim());
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("\"" + it + "\": multiplier is not a number: \"" + f[3].trim() + "\"");
        }
        if (!(multiplier >= 1) || Double.isInfinite(multiplier)) {
          throw new IllegalArgumentException("\"" + it + "\": multiplier must be at least 1");
        }
      }
      if (!steps.isEmpty() && cutoff.compareTo(steps.get(steps.size() - 1).cutoff()) <= 0) {
        throw new IllegalArgumentException("\"" + it + "\": cutoff must be later than the previous one");
      }
      steps.add(new Step(a, cutoff, interval, multiplier));
    }
    return new RetrySchedule(steps, intervalMax, random);
  }

  private static Duration positive(String text, String item, String what) {
    Duration d;
    try {
      d = EximTime.parse(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("\"" + item + "\": " + what + ": " + e.getMessage());
    }
    if (d.isZero()) {
      throw new IllegalArgumentException("\"" + item + "\": " + what + " must be greater than zero");
    }
    return d;
  }

  public List<Step> steps() {
    return steps;
  }

  /** True when the schedule has no algorithms: temporary errors are treated as permanent. */
  public boolean isEmpty() {
    return steps.isEmpty();
  }

  /** The cutoff of the last algorithm; zero for an empty schedule. */
  public Duration finalCutoff() {
    return steps.isEmpty() ? Duration.ZERO : steps.get(steps.size() - 1).cutoff();
  }

  /**
   * The retry decision after a failure at {@code now} of a destination first failing at
   * {@code firstFailure} and last tried at {@code lastAttempt}; for a destination failing for the
   * first time pass {@code now} for both. The previous gap is taken to be the actual one.
   */
  public Outcome next(Instant firstFailure, Instant lastAttempt, Instant now) {
    Instant predicted = firstFailure.equals(lastAttempt) ? lastAttempt : now;
    return next(firstFailure, lastAttempt, predicted, now, null, true);
  }

  /**
   * Exim's full computation.
   *
   * @param firstFailed     first failure of the destination (equal to {@code now} for a new record)
   * @param lastTry         previous attempt (equal to {@code now} for a new record)
   * @param previousNextTry retry time computed at the previous failure (equal to {@code now} for a new record)
   * @param messageArrival  arrival of the message whose delivery failed, or null when not known
   * @param hostError       true for a host ({@code T:}) record: then the message's age does not
   *                        lengthen the failing interval (Exim applies that only to address errors)
   */
  public Outcome next(Instant firstFailed, Instant lastTry, Instant previousNextTry, Instant now,
                      Instant messageArrival, boolean hostError) {
    if (steps.isEmpty()) {
      return new Outcome(now, true, true);
    }
    long failing = seconds(firstFailed, now);
    long messageAge = messageArrival == null ? 0 : seconds(messageArrival, now);
    if (!hostError && messageAge > failing) {
      failing = messageAge;
    }
    Step rule = null;
    for (Step s : steps) {
      if (failing <= s.cutoff().getSeconds()) {
        rule = s;
        break;
      }
    }
    boolean expired = rule == null;
    if (expired) {
      rule = steps.get(steps.size() - 1);
    } else if (messageArrival != null && !messageArrival.isAfter(firstFailed)
        && messageAge > finalCutoff().getSeconds()) {
      // Exim: deliveries that succeed reset first_failed, so a message that keeps failing would
      // otherwise stay queued beyond the final cutoff; it times out, and the destination is
      // made due now so that messages in the same state are tried too.
      return new Outcome(now, false, true);
    }
    long gap = switch (rule.algorithm()) {
      case F -> rule.interval().getSeconds();
      case G, H -> geometric(rule, lastTry, previousNextTry, now);
    };
    gap = Math.min(gap, intervalMax.getSeconds());
    return new Outcome(now.plusSeconds(gap), expired, expired);
  }

  private long geometric(Step rule, Instant lastTry, Instant previousNextTry, Instant now) {
    long predicted = seconds(lastTry, previousNextTry);
    long actual = seconds(lastTry, now);
    long lastGap = Math.min(predicted, actual);
    long initial = rule.interval().getSeconds();
    long nextGap = (long) Math.min((double) lastGap * rule.multiplier(), Long.MAX_VALUE / 4.0);
    if (rule.algorithm() == Algorithm.G) {
      return lastGap < initial ? initial : nextGap;
    }
    long gap = initial;
    if (nextGap > initial) {
      long spread = nextGap - initial;
      gap += random.nextLong(spread) / 2 + spread / 2;
    }
    return gap;
  }

  private static long seconds(Instant from, Instant to) {
    return Duration.between(from, to).getSeconds();
  }

  /** Exim's notation, e.g. {@code F,2h,15m; G,16h,1h,1.5}. */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder();
    for (Step s : steps) {
      if (!sb.isEmpty()) {
        sb.append("; ");
      }
      sb.append(s.algorithm()).append(',').append(EximTime.format(s.cutoff())).append(',')
          .append(EximTime.format(s.interval()));
      if (s.algorithm() != Algorithm.F) {
        sb.append(',').append(s.multiplier() == Math.rint(s.multiplier())
            ? String.valueOf((long) s.multiplier()) : String.valueOf(s.multiplier()));
      }
    }
    return sb.toString();
  }
}
