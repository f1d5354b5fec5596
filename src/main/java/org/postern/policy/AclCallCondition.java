package org.postern.policy;

import io.vertx.core.Future;

/**
 * {@code acl = <name>}: runs another ACL as a subroutine; true when it accepts, false when it
 * denies, defer when it defers. Nesting is bounded, so an ACL that calls itself defers instead of
 * looping.
 */
public final class AclCallCondition implements AclCondition {
  static final int MAX_DEPTH = 20;
  private final String name;

  public AclCallCondition(String name) {
    this.name = name;
  }

  public String name() {
    return name;
  }

  @Override
  public Future<Outcome> test(AclContext context) {
    Acl acl = context.config().acls().get(name);
    if (acl == null || !context.enter()) {
      return Future.succeededFuture(Outcome.DEFER);
    }
    return AclEngine.run(acl, context).map(verdict -> switch (verdict.type()) {
      case ACCEPT, DISCARD -> Outcome.TRUE;
      case DEFER -> Outcome.DEFER;
      default -> Outcome.FALSE;
    }).andThen(r -> context.leave());
  }

  @Override
  public String describe() {
    return "acl = " + name;
  }
}
