package org.postern.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.eventbus.Message;
import org.postern.bus.AclCheck;
import org.postern.bus.AclVerdict;
import org.postern.bus.Addresses;
import org.postern.bus.AuthReply;
import org.postern.bus.AuthStep;

/**
 * ACL verdicts by stage and verdict ({@link AclCheck} and the {@link AclVerdict} answering it) and
 * AUTH outcomes by mechanism ({@link AuthStep} on {@code postern.auth.<MECHANISM>} and the
 * {@link AuthReply} ending the exchange). A mechanism is counted only when its authenticator
 * answered, so the label takes only the configured mechanisms' names, whatever a client asks for.
 * A plugin authenticator's own exchange ({@code postern.auth.plugin.*}) is the same AUTH, counted once.
 */
final class PolicyMeters implements BusObserver {
  private final TaggedCounters verdicts;
  private final TaggedCounters attempts;
  private final Pending<String> stages = new Pending<>();
  private final Pending<String> mechanisms = new Pending<>();

  PolicyMeters(MeterRegistry registry) {
    this.verdicts = TaggedCounters.by(registry, "postern.acl.verdicts", "ACL verdicts, by stage and verdict", "stage",
        "verdict");
    this.attempts = TaggedCounters.by(registry, "postern.auth.attempts", "AUTH exchanges ended, by mechanism and result",
        "mechanism", "result");
  }

  @Override
  public void sent(Message<?> message, Object body, long now) {
    if (body instanceof AclCheck c) {
      stages.put(message.replyAddress(), c.stage().wire(), now);
    } else if (body instanceof AclVerdict v) {
      String stage = stages.take(message.address());
      if (stage != null) {
        verdicts.of(stage, v.type().wire()).increment();
      }
    } else if (body instanceof AuthStep s && message.address().startsWith(Addresses.AUTH_PREFIX)
        && !message.address().startsWith(Addresses.AUTH_PLUGIN_PREFIX)) {
      mechanisms.put(message.replyAddress(), s.mechanism(), now);
    } else if (body instanceof AuthReply r) {
      String mechanism = mechanisms.take(message.address());
      if (mechanism != null && r.status() != AuthReply.Status.CHALLENGE) {
        attempts.of(mechanism, r.status().wire()).increment();
      }
    }
  }

  @Override
  public void sweep(long olderThan) {
    stages.sweep(olderThan);
    mechanisms.sweep(olderThan);
  }
}
