package org.postern.expand;

import java.util.List;

/** A node of a parsed {@link Expansion} string. All nodes are immutable. */
sealed interface ExpansionNode {

  /** Appends this node's value to {@code out}. */
  void eval(ExpansionContext ctx, StringBuilder out);

  /** The value when it does not depend on variables (so it can be checked at parse time), else null. */
  default String constant() {
    return null;
  }

  /** Text, with escapes already resolved. */
  record Literal(String text) implements ExpansionNode {
    @Override
    public void eval(ExpansionContext ctx, StringBuilder out) {
      ExpansionContext.append(out, text);
    }

    @Override
    public String constant() {
      return text;
    }
  }

  /** {@code $name} or {@code ${name}}; unset is empty. */
  record Variable(String name) implements ExpansionNode {
    @Override
    public void eval(ExpansionContext ctx, StringBuilder out) {
      String value = ctx.lookup(name);
      if (value != null) {
        ExpansionContext.append(out, value);
      }
    }
  }

  /** {@code $1} or {@code ${1}}: a capture of the last successful {@code match}. */
  record MatchGroup(int index) implements ExpansionNode {
    @Override
    public void eval(ExpansionContext ctx, StringBuilder out) {
      ExpansionContext.append(out, ctx.group(index));
    }
  }

  /** Parts evaluated one after the other. */
  record Sequence(List<ExpansionNode> parts) implements ExpansionNode {
    @Override
    public void eval(ExpansionContext ctx, StringBuilder out) {
      for (ExpansionNode part : parts) {
        part.eval(ctx, out);
      }
    }
  }

  /**
   * {@code ${if cond {yes}{no}}}; {@code yes == null} is the bare {@code ${if cond}} form, which
   * yields "true" or "".
   */
  record If(ExpansionCondition condition, ExpansionNode yes, ExpansionNode no) implements ExpansionNode {
    @Override
    public void eval(ExpansionContext ctx, StringBuilder out) {
      // As in Exim, $1... set by a match in the condition are visible in yes/no only: the
      // enclosing values come back at the end of the ${if}.
      String[] saved = ctx.groups();
      try {
        boolean result = condition.test(ctx);
        if (yes == null) {
          if (result) {
            ExpansionContext.append(out, "true");
          }
        } else {
          (result ? yes : no).eval(ctx, out);
        }
      } finally {
        ctx.groups(saved);
      }
    }
  }

  /** {@code ${lc:...}}, {@code ${uc:...}}, {@code ${length_N:...}}. */
  record Operator(Kind kind, int length, ExpansionNode argument) implements ExpansionNode {
    enum Kind { LC, UC, LENGTH }

    @Override
    public void eval(ExpansionContext ctx, StringBuilder out) {
      String s = ctx.evaluate(argument);
      ExpansionContext.append(out, switch (kind) {
        case LC -> asciiCase(s, false);
        case UC -> asciiCase(s, true);
        case LENGTH -> firstCodePoints(s, length);
      });
    }

    /**
     * Exim's lc/uc work byte by byte in the C locale, so only ASCII letters change; Java's
     * toLowerCase would also change non-ASCII letters and, for some, the length of the string.
     */
    static String asciiCase(String s, boolean upper) {
      char[] chars = s.toCharArray();
      for (int i = 0; i < chars.length; i++) {
        char c = chars[i];
        if (upper && c >= 'a' && c <= 'z') {
          chars[i] = (char) (c - 32);
        } else if (!upper && c >= 'A' && c <= 'Z') {
          chars[i] = (char) (c + 32);
        }
      }
      return new String(chars);
    }

    /** Counts code points, not chars, so that a surrogate pair is never cut in half. */
    static String firstCodePoints(String s, int n) {
      if (n >= s.length()) {
        return s;
      }
      int cps = s.codePointCount(0, s.length());
      return n >= cps ? s : s.substring(0, s.offsetByCodePoints(0, n));
    }
  }
}
