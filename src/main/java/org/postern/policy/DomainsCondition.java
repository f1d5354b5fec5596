package org.postern.policy;

import org.postern.lists.DomainList;

import io.vertx.core.Future;

/** {@code domains = <domain list>}: the recipient's domain (rcpt stage) is in the list. */
public final class DomainsCondition implements AclCondition {
  private final DomainList domains;

  public DomainsCondition(DomainList domains) {
    this.domains = domains;
  }

  @Override
  public Future<Outcome> test(AclContext context) {
    String domain = context.variable("domain");
    return Future.succeededFuture(domain != null && domains.matches(domain) ? Outcome.TRUE : Outcome.FALSE);
  }

  @Override
  public String describe() {
    return "domains = " + domains.spec();
  }
}
