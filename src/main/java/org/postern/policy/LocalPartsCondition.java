package org.postern.policy;

import org.postern.lists.LocalPartList;

import io.vertx.core.Future;

/** {@code local_parts = <local part list>}: the recipient's local part (rcpt, vrfy) is in the list. */
public final class LocalPartsCondition implements AclCondition {
  private final LocalPartList localParts;

  public LocalPartsCondition(LocalPartList localParts) {
    this.localParts = localParts;
  }

  @Override
  public Future<Outcome> test(AclContext context) {
    String localPart = context.variable("local_part");
    return Future.succeededFuture(localPart != null && localParts.matches(localPart) ? Outcome.TRUE : Outcome.FALSE);
  }

  @Override
  public String describe() {
    return "local_parts = " + localParts.spec();
  }
}
