package org.postern.policy;

import org.postern.lists.HostList;

import io.vertx.core.Future;

/** {@code hosts = <host list>}: the client's address (empty for local submission) is in the list. */
public final class HostsCondition implements AclCondition {
  private final HostList hosts;

  public HostsCondition(HostList hosts) {
    this.hosts = hosts;
  }

  @Override
  public Future<Outcome> test(AclContext context) {
    String address = context.variable("sender_host_address");
    boolean match = hosts.matches(address == null ? "" : address, context.variable("sender_host_name"));
    return Future.succeededFuture(match ? Outcome.TRUE : Outcome.FALSE);
  }

  @Override
  public String describe() {
    return "hosts = " + hosts.spec();
  }
}
