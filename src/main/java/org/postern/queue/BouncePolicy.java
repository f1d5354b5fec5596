package org.postern.queue;

import org.postern.spool.Envelope;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * Exim's rules for what happens when delivery fails for good, and for delay warnings; the queue
 * runner asks, this class decides.
 * <ul>
 *   <li>A message with a sender gets a bounce.</li>
 *   <li>A message from the null sender {@code <>} (itself a bounce or similar) gets none: a bounce
 *       that cannot be delivered is frozen, never bounced again, so two MTAs cannot bounce
 *       bounces at each other forever; the failure is only logged.</li>
 *   <li>A frozen bounce is discarded after {@code ignore_bounce_errors_after} (Exim default 10w).</li>
 *   <li>Delay warnings follow {@code delay_warning} (Exim default 24h): a list of times since
 *       arrival, the last one repeating; none for {@code <>} senders.</li>
 *   <li>RFC 3461 {@code NOTIFY=}: a recipient is in a failure report, a delay warning or a success
 *       report only when its NOTIFY asks for that event (without NOTIFY: failures and delays).</li>
 * </ul>
 */
public final class BouncePolicy {
  /** Exim's default {@code delay_warning}. */
  public static final List<Duration> DEFAULT_DELAY_WARNING = List.of(Duration.ofHours(24));
  /** Exim's default {@code ignore_bounce_errors_after}. */
  public static final Duration DEFAULT_IGNORE_BOUNCE_ERRORS_AFTER = Duration.ofDays(70);

  /** What to do with a message whose recipients have failed permanently. */
  public enum FailureAction {
    /** Send a bounce to the sender. */
    BOUNCE,
    /** Log the failure and freeze the message: it was a bounce itself. */
    FREEZE
  }

  private BouncePolicy() {
  }

  /** False for the null sender {@code <>}: bounces are never bounced. */
  public static boolean shouldBounce(Envelope envelope) {
    return !envelope.sender().isEmpty();
  }

  /** {@link FailureAction#BOUNCE} for ordinary mail, {@link FailureAction#FREEZE} for a failed bounce. */
  public static FailureAction onPermanentFailure(Envelope envelope) {
    return shouldBounce(envelope) ? FailureAction.BOUNCE : FailureAction.FREEZE;
  }

  /**
   * The recipients of {@code reports} whose NOTIFY asks for {@code event} ({@code SUCCESS},
   * {@code FAILURE}, {@code DELAY}); a recipient not in the envelope (an alias's target) takes the default.
   */
  public static List<BounceRequest.FailedRecipient> notified(Envelope envelope,
                                                           List<BounceRequest.FailedRecipient> reports, String event) {
    java.util.Map<String, Envelope.Recipient> byAddress = new java.util.HashMap<>();
    envelope.recipients().forEach(r -> byAddress.putIfAbsent(MessageAttempt.unique(r.address()), r));
    return reports.stream().filter(f -> {
      Envelope.Recipient r = byAddress.get(MessageAttempt.unique(f.address()));
      return r == null ? !event.equals("SUCCESS") : r.notifies(event);
    }).toList();
  }

  /** True when a frozen bounce has been queued longer than {@code ignore_bounce_errors_after}: it goes. */
  public static boolean discardFrozenBounce(Envelope envelope, Instant now, Duration ignoreBounceErrorsAfter) {
    return envelope.frozen() && !shouldBounce(envelope)
        && Duration.between(Instant.ofEpochMilli(envelope.receivedAt()), now).compareTo(ignoreBounceErrorsAfter) > 0;
  }

  /**
   * The time on the queue at which the next delay warning is due, given how many were sent
   * already; null when no (more) warnings are to be sent. Times past the last listed one repeat
   * at the last one's interval, as Exim's {@code delay_warning} does.
   */
  public static Duration nextDelayWarning(Envelope envelope, List<Duration> delayWarning, int warningsSent) {
    if (!shouldBounce(envelope) || delayWarning.isEmpty() || delayWarning.get(0).isZero()) {
      return null;
    }
    if (warningsSent < delayWarning.size()) {
      return delayWarning.get(warningsSent);
    }
    Duration last = delayWarning.get(delayWarning.size() - 1);
    Duration step = delayWarning.size() == 1 ? last : last.minus(delayWarning.get(delayWarning.size() - 2));
    return last.plus(step.multipliedBy(warningsSent - delayWarning.size() + 1L));
  }
}
