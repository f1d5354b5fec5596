package org.postern.acl;

import io.vertx.core.Future;

/** {@code !condition}: true and false swap; defer stays defer, as in Exim. */
final class NegatedCondition implements AclCondition {
  private final AclCondition inner;

  NegatedCondition(AclCondition inner) {
    this.inner = inner;
  }

  @Override
  public Future<Outcome> test(AclContext context) {
    return inner.test(context).map(o -> switch (o) {
      case TRUE -> Outcome.FALSE;
      case FALSE -> Outcome.TRUE;
      case DEFER -> Outcome.DEFER;
    });
  }

  AclCondition inner() {
    return inner;
  }

  @Override
  public String describe() {
    return "!" + inner.describe();
  }
}
