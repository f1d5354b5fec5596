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
    String failure = failure(config, localPart, domain);
    if (failure == null) {
      return Future.succeededFuture(Outcome.TRUE);
    }
    String recipient = domain == null || domain.isEmpty() ? localPart : localPart + "@" + domain;
    context.verifyFailed(550, "5.1.1", "<" + recipient + ">: " + failure);
    return Future.succeededFuture(Outcome.FALSE);
  }

  /** Why {@code localPart@domain} fails the check, or null when it passes; {@code -bv} asks the same. */
  public static String failure(AclSettings config, String localPart, String domain) {
    boolean local = domain == null || domain.isEmpty() || config.localDomains().matches(domain);
    return !local || config.localPartExists(localPart) ? null : "Unknown user";
  }

  @Override
  public String describe() {
    return "verify = recipient";
  }
}
