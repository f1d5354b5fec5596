package org.postern.policy;

import io.vertx.core.Future;

import java.util.List;

/**
 * {@code encrypted = <list>}: the session is in TLS and its {@code $tls_cipher} matches one of the
 * patterns ({@code *} = any cipher; a leading or trailing {@code *} is a wildcard).
 */
public final class EncryptedCondition implements AclCondition {
  private final List<String> patterns;

  public EncryptedCondition(List<String> patterns) {
    this.patterns = patterns;
  }

  @Override
  public Future<Outcome> test(AclContext context) {
    String cipher = context.variable("tls_cipher");
    if (cipher == null) {
      return Future.succeededFuture(Outcome.FALSE);
    }
    for (String p : patterns) {
      boolean match = p.equals("*")
          || (p.startsWith("*") && cipher.endsWith(p.substring(1)))
          || (p.endsWith("*") && cipher.startsWith(p.substring(0, p.length() - 1)))
          || p.equals(cipher);
      if (match) {
        return Future.succeededFuture(Outcome.TRUE);
      }
    }
    return Future.succeededFuture(Outcome.FALSE);
  }

  @Override
  public String describe() {
    return "encrypted = " + String.join(" : ", patterns);
  }
}
