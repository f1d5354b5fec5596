package org.postern.policy;

import org.postern.expand.Expansion;
import org.postern.expand.ExpansionException;

import io.vertx.core.Future;

/**
 * {@code condition = <expansion>}: Exim's generic condition, e.g.
 * {@code ${if eq{$sender_helo_name}{$primary_hostname}}}. An expansion that fails at run time
 * defers, as in Exim, rather than guessing.
 */
public final class ExpressionCondition implements AclCondition {
  private final Expansion expansion;

  public ExpressionCondition(Expansion expansion) {
    this.expansion = expansion;
  }

  @Override
  public Future<Outcome> test(AclContext context) {
    try {
      return Future.succeededFuture(expansion.condition(context::variable) ? Outcome.TRUE : Outcome.FALSE);
    } catch (ExpansionException e) {
      return Future.succeededFuture(Outcome.DEFER);
    }
  }

  @Override
  public String describe() {
    return "condition = " + expansion.source();
  }
}
