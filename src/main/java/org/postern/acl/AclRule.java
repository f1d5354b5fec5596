package org.postern.acl;

import java.util.List;

/**
 * One statement of an ACL: a verb, its conditions (all must be true) and its modifiers.
 * {@code line} is the line in acl.yaml, shown in traces and logs.
 */
public record AclRule(Verb verb, List<AclCondition> conditions, Expansion message, Expansion logMessage,
                      java.util.Map<String, Expansion> sets, int line) {

  /** Exim's ACL verbs. */
  public enum Verb { ACCEPT, DENY, DEFER, DISCARD, DROP, REQUIRE, WARN }
}
