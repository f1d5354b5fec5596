package org.postern.expand;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** A parsed {@code ${if}} condition. All conditions are immutable. */
sealed interface ExpansionCondition {

  boolean test(ExpansionContext ctx);

  /** {@code !cond}. */
  record Not(ExpansionCondition inner) implements ExpansionCondition {
    @Override
    public boolean test(ExpansionContext ctx) {
      return !inner.test(ctx);
    }
  }

  /** {@code def:name}: the variable is set and not empty. */
  record Defined(String name) implements ExpansionCondition {
    @Override
    public boolean test(ExpansionContext ctx) {
      String value = ctx.lookup(name);
      return value != null && !value.isEmpty();
    }
  }

  /** {@code and {{c1}{c2}...}} (all) or {@code or {...}} (any), evaluated left to right and short-circuited. */
  record Group(boolean all, List<ExpansionCondition> members) implements ExpansionCondition {
    @Override
    public boolean test(ExpansionContext ctx) {
      for (ExpansionCondition c : members) {
        // Short-circuit as Exim does: later members are not evaluated, so their variables are
        // not looked up and their errors (say a bad bool) do not happen.
        if (c.test(ctx) != all) {
          return !all;
        }
      }
      return all;
    }
  }

  /** String comparisons: eq, eqi, lt, lti, le, lei, gt, gti, ge, gei. */
  record Compare(StringOp op, ExpansionNode left, ExpansionNode right) implements ExpansionCondition {
    @Override
    public boolean test(ExpansionContext ctx) {
      String a = ctx.evaluate(left);
      String b = ctx.evaluate(right);
      return op.holds(compareCodePoints(a, b, op.caseless));
    }
  }

  /** The string comparisons, named as in Exim. */
  enum StringOp {
    EQ("eq", false), EQI("eqi", true), LT("lt", false), LTI("lti", true), LE("le", false),
    LEI("lei", true), GT("gt", false), GTI("gti", true), GE("ge", false), GEI("gei", true);

    final String word;
    final boolean caseless;

    StringOp(String word, boolean caseless) {
      this.word = word;
      this.caseless = caseless;
    }

    boolean holds(int cmp) {
      return switch (this) {
        case EQ, EQI -> cmp == 0;
        case LT, LTI -> cmp < 0;
        case LE, LEI -> cmp <= 0;
        case GT, GTI -> cmp > 0;
        case GE, GEI -> cmp >= 0;
      };
    }

    static StringOp of(String word) {
      for (StringOp op : values()) {
        if (op.word.equals(word)) {
          return op;
        }
      }
      return null;
    }
  }

  /** Numeric comparisons {@code < <= = == > >=} on Exim integers (see {@link #parseInteger}). */
  record Numeric(String op, ExpansionNode left, ExpansionNode right, int leftOffset, int rightOffset)
      implements ExpansionCondition {
    @Override
    public boolean test(ExpansionContext ctx) {
      long a = integer(ctx.evaluate(left), leftOffset);
      long b = integer(ctx.evaluate(right), rightOffset);
      return switch (op) {
        case "<" -> a < b;
        case "<=" -> a <= b;
        case ">" -> a > b;
        case ">=" -> a >= b;
        default -> a == b; // "=" and "=="
      };
    }

    private long integer(String s, int offset) {
      Long v = parseInteger(s);
      if (v == null) {
        throw new ExpansionException("\"" + op + "\" condition: argument is not an integer at offset " + offset);
      }
      return v;
    }
  }

  /** {@code bool {s}} and {@code bool_lax {s}}. */
  record Bool(ExpansionNode argument, boolean lax, int offset) implements ExpansionCondition {
    @Override
    public boolean test(ExpansionContext ctx) {
      Boolean v = parseBool(ctx.evaluate(argument), lax);
      if (v == null) {
        throw new ExpansionException("\"bool\" condition: value is not a boolean at offset " + offset);
      }
      return v;
    }
  }

  /**
   * {@code match {subject}{regex}}: Java regex, searched with {@link Matcher#find()}. {@code compiled}
   * is set when the regex does not depend on variables, so it is compiled (and checked) once at
   * parse time. A successful match sets {@code $0}, {@code $1}, ...
   */
  record Match(ExpansionNode subject, ExpansionNode regex, Pattern compiled, int offset)
      implements ExpansionCondition {
    @Override
    public boolean test(ExpansionContext ctx) {
      String text = ctx.evaluate(subject);
      Pattern p = compiled;
      if (p == null) {
        try {
          p = Pattern.compile(ctx.evaluate(regex));
        } catch (PatternSyntaxException e) {
          // getDescription() only: getMessage() would quote the pattern, which holds variable values.
          throw new ExpansionException("\"match\" condition: invalid regular expression (" + e.getDescription()
              + ") at offset " + offset);
        }
      }
      Matcher m = p.matcher(new BudgetedText(text, MATCH_BUDGET_BASE + MATCH_BUDGET_PER_CHAR * text.length(), offset));
      boolean found;
      try {
        found = m.find();
      } catch (StackOverflowError e) {
        // java.util.regex recurses per repetition of some groups; a long subject from a client
        // must not be able to take the thread down.
        throw new ExpansionException("\"match\" condition: regular expression too complex for the subject at offset "
            + offset);
      }
      if (found) {
        String[] groups = new String[m.groupCount() + 1];
        for (int i = 0; i < groups.length; i++) {
          groups[i] = m.group(i);
        }
        ctx.groups(groups);
      }
      return found;
    }
  }

  /**
   * How many characters a single match may read: {@link #MATCH_BUDGET_BASE} plus
   * {@link #MATCH_BUDGET_PER_CHAR} per subject character. The subject often comes from the client,
   * and a backtracking regex ({@code ^(.*a){20}$}) can take exponential time on it; counting reads
   * is the one deterministic way to stop java.util.regex from the outside. A sane regex reads each
   * character a handful of times per start position; a million reads is milliseconds for plain
   * patterns and well under a second even for back-reference-heavy ones, where a read costs more.
   */
  long MATCH_BUDGET_BASE = 1_000_000L;

  /** See {@link #MATCH_BUDGET_BASE}. */
  long MATCH_BUDGET_PER_CHAR = 64L;

  /** A subject that gives up after a number of {@link #charAt} calls. */
  final class BudgetedText implements CharSequence {
    private final String text;
    private final int offset;
    private long remaining;

    BudgetedText(String text, long budget, int offset) {
      this.text = text;
      this.remaining = budget;
      this.offset = offset;
    }

    @Override
    public char charAt(int index) {
      if (--remaining < 0) {
        throw new ExpansionException("\"match\" condition: regular expression too expensive for the subject at offset "
            + offset);
      }
      return text.charAt(index);
    }

    @Override
    public int length() {
      return text.length();
    }

    @Override
    public CharSequence subSequence(int start, int end) {
      return text.subSequence(start, end);
    }

    @Override
    public String toString() {
      return text;
    }
  }

  /**
   * Exim's {@code strcmp}/{@code strcmpic} on UTF-8 bytes orders strings by code point; Java's
   * compareTo orders by UTF-16 unit, which differs above U+FFFF. Case folding is ASCII only, as in
   * Exim (and so that "eqi" cannot be fooled by Unicode folding such as long s to S).
   */
  static int compareCodePoints(String a, String b, boolean caseless) {
    int i = 0;
    int j = 0;
    while (i < a.length() && j < b.length()) {
      int x = a.codePointAt(i);
      int y = b.codePointAt(j);
      if (caseless) {
        x = asciiLower(x);
        y = asciiLower(y);
      }
      if (x != y) {
        return Integer.compare(x, y);
      }
      i += Character.charCount(x);
      j += Character.charCount(y);
    }
    return Boolean.compare(i < a.length(), j < b.length());
  }

  static int asciiLower(int c) {
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
  }

  static boolean asciiEqualsIgnoreCase(String a, String b) {
    return a.length() == b.length() && compareCodePoints(a, b, true) == 0;
  }

  /** C's isspace in the C locale, which is what Exim uses to trim. */
  static boolean isSpace(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\u000B' || c == '\f' || c == '\r';
  }

  /**
   * An integer as Exim's numeric conditions read it: empty or all-white-space is 0; otherwise
   * optional white space, an optional sign, decimal digits, an optional K/M/G (x1024, x1024^2,
   * x1024^3, either case) and optional white space. Null when the string is not such a number or
   * does not fit in 64 bits.
   */
  static Long parseInteger(String s) {
    int i = 0;
    int n = s.length();
    while (i < n && isSpace(s.charAt(i))) {
      i++;
    }
    if (i == n) {
      return 0L;
    }
    boolean negative = false;
    if (s.charAt(i) == '+' || s.charAt(i) == '-') {
      negative = s.charAt(i) == '-';
      i++;
    }
    int digits = i;
    long value = 0;
    while (i < n && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
      int d = s.charAt(i) - '0';
      // Accumulate negatively so that Long.MIN_VALUE itself is representable.
      if (value < (Long.MIN_VALUE + d) / 10) {
        return null;
      }
      value = value * 10 - d;
      i++;
    }
    if (i == digits) {
      return null;
    }
    if (!negative) {
      if (value == Long.MIN_VALUE) {
        return null;
      }
      value = -value;
    }
    if (i < n) {
      long factor = switch (s.charAt(i)) {
        case 'k', 'K' -> 1024L;
        case 'm', 'M' -> 1024L * 1024;
        case 'g', 'G' -> 1024L * 1024 * 1024;
        default -> 1;
      };
      if (factor != 1) {
        if (value > Long.MAX_VALUE / factor || value < Long.MIN_VALUE / factor) {
          return null;
        }
        value *= factor;
        i++;
      }
    }
    while (i < n && isSpace(s.charAt(i))) {
      i++;
    }
    return i == n ? value : null;
  }

  /**
   * Exim's {@code bool}/{@code bool_lax}, after trimming white space: empty is false; an integer
   * (optionally with a leading minus) is true when not zero (for bool_lax, any integer of more than
   * one character is true, as in router conditions); true/yes and false/no in any case. Anything
   * else is null for bool and true for bool_lax.
   */
  static Boolean parseBool(String raw, boolean lax) {
    int start = 0;
    int end = raw.length();
    while (start < end && isSpace(raw.charAt(start))) {
      start++;
    }
    while (end > start && isSpace(raw.charAt(end - 1))) {
      end--;
    }
    String t = raw.substring(start, end);
    if (t.isEmpty()) {
      return false;
    }
    int first = t.charAt(0) == '-' ? 1 : 0;
    boolean numeric = true;
    boolean zero = true;
    for (int i = first; i < t.length(); i++) {
      char c = t.charAt(i);
      if (c < '0' || c > '9') {
        numeric = false;
        break;
      }
      zero &= c == '0';
    }
    if (numeric) {
      return lax && t.length() > 1 || !zero;
    }
    if (asciiEqualsIgnoreCase(t, "true") || asciiEqualsIgnoreCase(t, "yes")) {
      return true;
    }
    if (asciiEqualsIgnoreCase(t, "false") || asciiEqualsIgnoreCase(t, "no")) {
      return false;
    }
    return lax ? Boolean.TRUE : null;
  }
}
