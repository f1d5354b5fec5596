package org.postern.policy;

import io.vertx.core.Future;

/**
 * {@code verify = header_syntax} (data ACL): every address-carrying header parses as an RFC 5322
 * address list ({@link AddressHeaderSyntax}). A failure leaves 550 5.6.0 with the header and the
 * problem. Outside the data ACL there are no headers yet and the condition is false, as in Exim,
 * where using it elsewhere is an error.
 */
public final class VerifyHeaderSyntaxCondition implements AclCondition {

  @Override
  public Future<Outcome> test(AclContext context) {
    String headers = context.variable("message_headers");
    if (headers == null) {
      return Future.succeededFuture(Outcome.FALSE);
    }
    String error = AddressHeaderSyntax.firstError(headers);
    if (error == null) {
      return Future.succeededFuture(Outcome.TRUE);
    }
    context.verifyFailed(550, "5.6.0", "Header syntax error: " + error.replaceAll("\\p{Cntrl}", "?"));
    return Future.succeededFuture(Outcome.FALSE);
  }

  @Override
  public String describe() {
    return "verify = header_syntax";
  }
}
