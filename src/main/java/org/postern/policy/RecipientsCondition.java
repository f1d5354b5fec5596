package org.postern.policy;

import org.postern.lists.AddressList;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;

/**
 * {@code recipients = <address list>}: true when any recipient of the message is in the list. In
 * the predata, mime and data ACLs that is every recipient; in the rcpt ACL only the one being
 * checked (the whole list is not handed to each RCPT, which would cost O(n) per command). Before
 * the first RCPT it is false.
 */
public final class RecipientsCondition implements AclCondition {
  private final AddressList recipients;

  public RecipientsCondition(AddressList recipients) {
    this.recipients = recipients;
  }

  @Override
  public Future<Outcome> test(AclContext context) {
    JsonArray list = context.variables().getJsonArray("recipients_list");
    boolean any = list != null && list.stream().anyMatch(r -> recipients.matches(String.valueOf(r)));
    String current = context.variable("recipient");
    any = any || (current != null && recipients.matches(current));
    return Future.succeededFuture(any ? Outcome.TRUE : Outcome.FALSE);
  }

  @Override
  public String describe() {
    return "recipients = " + recipients.spec();
  }
}
