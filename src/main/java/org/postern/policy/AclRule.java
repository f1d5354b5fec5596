package org.postern.policy;

import org.postern.expand.Expansion;

import java.util.List;

/**
 * One statement of an ACL: a verb, its conditions (all must be true) and its modifiers.
 * {@code line} is the line in acl.yaml, shown in traces and logs. The modifiers {@code set},
 * {@code add_header}, {@code control} and {@code delay} take effect when all the conditions are
 * true (Exim applies a modifier when evaluation reaches it, which for the usual layout, modifiers
 * after conditions, is the same).
 */
public record AclRule(Verb verb, List<AclCondition> conditions, Expansion message, Expansion logMessage,
                      java.util.Map<String, Expansion> sets, List<Expansion> addHeaders, List<String> controls,
                      long delayMillis, int line) {

  /** Exim's ACL verbs. */
  public enum Verb { ACCEPT, DENY, DEFER, DISCARD, DROP, REQUIRE, WARN }
}
