package org.postern.queue;

import org.junit.jupiter.api.Test;
import org.postern.spool.Envelope;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BouncePolicyTest {
  private static final Instant ARRIVAL = Instant.parse("2026-03-01T08:00:00Z");

  private static Envelope envelope(String sender, boolean frozen) {
    return new Envelope("1abcDE-0000AB-Cd", sender, List.of(
        new Envelope.Recipient("bob@example.net", "bob", "example.net", Envelope.Recipient.State.FAILED)),
        ARRIVAL.toEpochMilli(), "192.0.2.9", 40000, "client.example", "esmtp", "192.0.2.1", 25, null, "7BIT",
        100, frozen);
  }

  @Test
  void ordinaryMailIsBounced() {
    assertTrue(BouncePolicy.shouldBounce(envelope("alice@example.org", false)));
    assertEquals(BouncePolicy.FailureAction.BOUNCE, BouncePolicy.onPermanentFailure(envelope("alice@example.org", false)));
  }

  @Test
  void bouncesAreNeverBouncedButFrozen() {
    Envelope bounce = envelope("", false);
    assertFalse(BouncePolicy.shouldBounce(bounce));
    assertEquals(BouncePolicy.FailureAction.FREEZE, BouncePolicy.onPermanentFailure(bounce));
  }

  @Test
  void frozenBouncesAreDiscardedAfterIgnoreBounceErrorsAfter() {
    Duration tenWeeks = BouncePolicy.DEFAULT_IGNORE_BOUNCE_ERRORS_AFTER;
    Instant justBefore = ARRIVAL.plus(tenWeeks);
    Instant after = justBefore.plusSeconds(1);
    assertFalse(BouncePolicy.discardFrozenBounce(envelope("", true), justBefore, tenWeeks));
    assertTrue(BouncePolicy.discardFrozenBounce(envelope("", true), after, tenWeeks));
    assertFalse(BouncePolicy.discardFrozenBounce(envelope("", false), after, tenWeeks), "not frozen");
    assertFalse(BouncePolicy.discardFrozenBounce(envelope("alice@example.org", true), after, tenWeeks),
        "frozen ordinary mail waits for an administrator");
  }

  @Test
  void delayWarningsFollowTheListAndRepeatTheLastGap() {
    Envelope e = envelope("alice@example.org", false);
    List<Duration> d = BouncePolicy.DEFAULT_DELAY_WARNING;
    assertEquals(Duration.ofHours(24), BouncePolicy.nextDelayWarning(e, d, 0));
    assertEquals(Duration.ofHours(48), BouncePolicy.nextDelayWarning(e, d, 1));
    assertEquals(Duration.ofHours(72), BouncePolicy.nextDelayWarning(e, d, 2));
    // Exim: 4h:8h:24h warns after 4h, 8h, 24h, then every 16h.
    List<Duration> list = List.of(Duration.ofHours(4), Duration.ofHours(8), Duration.ofHours(24));
    assertEquals(Duration.ofHours(4), BouncePolicy.nextDelayWarning(e, list, 0));
    assertEquals(Duration.ofHours(8), BouncePolicy.nextDelayWarning(e, list, 1));
    assertEquals(Duration.ofHours(24), BouncePolicy.nextDelayWarning(e, list, 2));
    assertEquals(Duration.ofHours(40), BouncePolicy.nextDelayWarning(e, list, 3));
    assertEquals(Duration.ofHours(56), BouncePolicy.nextDelayWarning(e, list, 4));
  }

  @Test
  void noDelayWarningsForBouncesOrWhenDisabled() {
    assertNull(BouncePolicy.nextDelayWarning(envelope("", false), BouncePolicy.DEFAULT_DELAY_WARNING, 0));
    assertNull(BouncePolicy.nextDelayWarning(envelope("a@example.org", false), List.of(), 0));
    assertNull(BouncePolicy.nextDelayWarning(envelope("a@example.org", false), List.of(Duration.ZERO), 0));
  }
}
