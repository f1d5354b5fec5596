package org.postern.policy;

import io.vertx.core.Future;

/**
 * One condition of an ACL rule ({@code hosts}, {@code domains}, {@code verify}, ...). Conditions are
 * asynchronous because some ask DNS ({@code dnslists}, {@code verify = helo|sender}), a plugin over
 * the event bus or the shared ratelimit store; a condition that cannot decide answers
 * {@link Outcome#DEFER}.
 */
public interface AclCondition {
  /** The three answers of an Exim condition. */
  enum Outcome { TRUE, FALSE, DEFER }

  Future<Outcome> test(AclContext context);

  /** How the condition reads in acl.yaml, for traces. */
  String describe();
}
