package org.postern.policy;

import io.vertx.core.Future;

/** {@code !condition}: true and false swap; defer stays defer, as in Exim. */
public final class NegatedCondition implements AclCondition {
  private final AclCondition inner;

  public NegatedCondition(AclCondition inner) {
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

  public AclCondition inner() {
    return inner;
  }

  @Override
  public String describe() {
    return "!" + inner.describe();
  }
}
