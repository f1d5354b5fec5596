package org.postern.policy;

import io.vertx.core.Future;

/**
 * {@code verify = recipient}: a recipient in a local domain must be a mailbox or an alias; a failure
 * leaves 550 5.1.1 for the verdict. A recipient in any other domain passes: verification does not
 * route it.
 */
public final class VerifyRecipientCondition implements AclCondition {

  @Override
  public Future<Outcome> test(AclContext context) {
    AclSettings config = context.config();
    String domain = context.variable("domain");
    String localPart = context.variable("local_part");
    if (localPart == null) {
      return Future.succeededFuture(Outcome.FALSE);
    }
    boolean local = domain == null || domain.isEmpty() || config.localDomains().matches(domain);
    if (!local || config.localPartExists(localPart)) {
      return Future.succeededFuture(Outcome.TRUE);
    }
    String recipient = domain == null || domain.isEmpty() ? localPart : localPart + "@" + domain;
    context.verifyFailed(550, "5.1.1", "<" + recipient + ">: Unknown user");
    return Future.succeededFuture(Outcome.FALSE);
  }

  @Override
  public String describe() {
    return "verify = recipient";
  }
}
