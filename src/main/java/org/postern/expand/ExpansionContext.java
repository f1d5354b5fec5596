package org.postern.expand;

import java.util.function.Function;

/**
 * The mutable state of one evaluation of an {@link Expansion}: the variable lookup and the numeric
 * variables ({@code $0}, {@code $1}, ...) set by the last successful {@code match}. A new context is
 * made per call, which is what keeps the parsed tree itself immutable and shareable between threads.
 */
final class ExpansionContext {
  private static final String[] NO_GROUPS = new String[0];

  private final Function<String, String> variables;
  private String[] groups = NO_GROUPS;

  ExpansionContext(Function<String, String> variables) {
    this.variables = variables;
  }

  /** The value of a named variable, or null when it is unset. */
  String lookup(String name) {
    return variables.apply(name);
  }

  /** {@code $n}: like Exim, a group that does not exist (or did not take part) is empty. */
  String group(int index) {
    if (index >= groups.length || groups[index] == null) {
      return "";
    }
    return groups[index];
  }

  String[] groups() {
    return groups;
  }

  void groups(String[] groups) {
    this.groups = groups;
  }

  /** Evaluates a node into a fresh string; each such string is subject to the output limit. */
  String evaluate(ExpansionNode node) {
    StringBuilder out = new StringBuilder();
    node.eval(this, out);
    return out.toString();
  }

  /**
   * Appends with the output limit checked first. The limit applies to every intermediate string,
   * not only to the final result: that bounds the memory one evaluation can take no matter how the
   * variables (which may come from the client) and the string are combined. Failing rather than
   * truncating matters for conditions: two long strings cut at the same length would compare equal.
   */
  static void append(StringBuilder out, String text) {
    if ((long) out.length() + text.length() > Expansion.MAX_OUTPUT) {
      throw new ExpansionException("expansion result is longer than " + Expansion.MAX_OUTPUT + " characters");
    }
    out.append(text);
  }
}
