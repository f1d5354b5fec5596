package org.postern.policy;

import org.postern.lists.AddressList;

import io.vertx.core.Future;

/**
 * {@code senders = <address list>}: the envelope sender ({@code $sender_address}, empty for
 * {@code <>}) is in the list. Before MAIL there is no sender and the condition is false.
 */
public final class SendersCondition implements AclCondition {
  private final AddressList senders;

  public SendersCondition(AddressList senders) {
    this.senders = senders;
  }

  @Override
  public Future<Outcome> test(AclContext context) {
    String sender = context.variable("sender_address");
    return Future.succeededFuture(sender != null && senders.matches(sender) ? Outcome.TRUE : Outcome.FALSE);
  }

  @Override
  public String describe() {
    return "senders = " + senders.spec();
  }
}
