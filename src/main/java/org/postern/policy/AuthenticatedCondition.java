package org.postern.policy;

import io.vertx.core.Future;

import java.util.List;
import java.util.Locale;

/** {@code authenticated = <list>}: the client authenticated and its id matches ({@code *} = any id). */
public final class AuthenticatedCondition implements AclCondition {
  private final List<String> patterns;

  public AuthenticatedCondition(List<String> patterns) {
    this.patterns = patterns;
  }

  @Override
  public Future<Outcome> test(AclContext context) {
    String id = context.variable("authenticated_id");
    if (id == null || id.isEmpty()) {
      return Future.succeededFuture(Outcome.FALSE);
    }
    for (String p : patterns) {
      if (p.equals("*") || p.equalsIgnoreCase(id)
          || (p.startsWith("*") && id.toLowerCase(Locale.ROOT).endsWith(p.substring(1).toLowerCase(Locale.ROOT)))) {
        return Future.succeededFuture(Outcome.TRUE);
      }
    }
    return Future.succeededFuture(Outcome.FALSE);
  }

  @Override
  public String describe() {
    return "authenticated = " + String.join(" : ", patterns);
  }
}
