package org.postern.policy;

import io.vertx.core.Future;

/** {@code verify = certificate}: the client presented a certificate that verified against {@code tls_verify_certificates}. */
public final class VerifyCertificateCondition implements AclCondition {
  @Override
  public Future<Outcome> test(AclContext context) {
    if ("1".equals(context.variable("tls_certificate_verified"))) {
      return Future.succeededFuture(Outcome.TRUE);
    }
    String error = context.variable("tls_certificate_error");
    context.verifyFailed(550, "5.7.1", context.variable("tls_cipher") == null ? "TLS required"
        : error != null ? "certificate verification failed: " + error : "no client certificate");
    return Future.succeededFuture(Outcome.FALSE);
  }

  @Override
  public String describe() {
    return "verify = certificate";
  }
}
