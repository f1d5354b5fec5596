package org.postern.metrics;

import io.micrometer.core.instrument.Counter;
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
  private final MeterRegistry registry;
  private final Pending<String> stages = new Pending<>();
  private final Pending<String> mechanisms = new Pending<>();

  PolicyMeters(MeterRegistry registry) {
    this.registry = registry;
  }

  @Override
  public void sent(Message<?> message, Object body, long now) {
    if (body instanceof AclCheck c) {
      stages.put(message.replyAddress(), c.stage().wire(), now);
    } else if (body instanceof AclVerdict v) {
      String stage = stages.take(message.address());
      if (stage != null) {
        Counter.builder("postern.acl.verdicts").description("ACL verdicts, by stage and verdict")
            .tag("stage", stage).tag("verdict", v.type().wire()).register(registry).increment();
      }
    } else if (body instanceof AuthStep s && message.address().startsWith(Addresses.AUTH_PREFIX)
        && !message.address().startsWith(Addresses.AUTH_PLUGIN_PREFIX)) {
      mechanisms.put(message.replyAddress(), s.mechanism(), now);
    } else if (body instanceof AuthReply r) {
      String mechanism = mechanisms.take(message.address());
      if (mechanism != null && r.status() != AuthReply.Status.CHALLENGE) {
        Counter.builder("postern.auth.attempts").description("AUTH exchanges ended, by mechanism and result")
            .tag("mechanism", mechanism).tag("result", r.status().wire()).register(registry).increment();
      }
    }
  }

  @Override
  public void sweep(long olderThan) {
    stages.sweep(olderThan);
    mechanisms.sweep(olderThan);
  }
}
