package org.postern.expand;

import java.util.Objects;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * A string expansion in Exim's language, as written in {@code server_condition},
 * {@code server_set_id} and ACL {@code message}/{@code condition} options: a safe subset, parsed
 * once when the configuration is loaded and then evaluated many times against a variable lookup.
 * Instances are immutable and thread-safe.
 *
 * <p>Parsing up front means a typo in a variable name, a missing brace or a bad regular
 * expression is a configuration error with a position ("... at offset 17", counting chars from 0),
 * not a surprise on the first connection that reaches the option.
 *
 * <h2>Syntax</h2>
 *
 * <ul>
 *   <li>Text is copied. A backslash works as in Exim's expansion: {@code \$ \{ \} \\} (any other
 *       character) stand for themselves, {@code \n \r \t \b \f \v}, octal {@code \ooo} and hex
 *       {@code \xhh} are control characters, and {@code \N...\N} is copied without any
 *       interpretation, which is the easy way to write a regular expression.
 *   <li>{@code $name} and {@code ${name}}: a variable. The name is a letter followed by letters,
 *       digits and underscores; it must be known when the string is parsed (see
 *       {@link #parse}). {@code $0}, {@code $1}, ... are the groups of the last successful
 *       {@code match} inside the enclosing {@code ${if}}, and empty elsewhere.
 *   <li>{@code ${if <condition> {<yes>}{<no>}}}; without {@code {<no>}} it is empty when false;
 *       with neither, {@code ${if <condition>}} is "true" or "". White space may separate the
 *       parts.
 *   <li>{@code ${lc:<string>}}, {@code ${uc:<string>}} (ASCII letters only, as in Exim) and
 *       {@code ${length_N:<string>}} or {@code ${l_N:<string>}} (the first N characters).
 * </ul>
 *
 * <p>Conditions, each of which may be preceded by {@code !} to negate it, and whose arguments are
 * themselves expansions:
 *
 * <ul>
 *   <li>{@code eq {a}{b}}, {@code eqi {a}{b}} (ASCII case-insensitive), and the ordering tests
 *       {@code lt le gt ge} and {@code lti lei gti gei};
 *   <li>{@code == = < <= > >=} {@code {a}{b}}: integers with an optional sign and K/M/G suffix; an
 *       empty argument is 0;
 *   <li>{@code match {subject}{regex}}: a Java regular expression found anywhere in the subject
 *       (anchor it with {@code ^} and {@code \$}); sets {@code $0}, {@code $1}, ...;
 *   <li>{@code def:name}: the variable is set and not empty;
 *   <li>{@code and {{c1}{c2}...}}, {@code or {{c1}{c2}...}}: left to right, stopping as soon as
 *       the answer is known;
 *   <li>{@code bool {s}}: true/yes/false/no in any case, or an integer (non-zero is true);
 *       {@code bool_lax {s}}: anything but "", "0", "no" and "false" is true.
 * </ul>
 *
 * <p>Everything else is refused at parse time: items such as {@code ${run}}, {@code ${lookup}} and
 * {@code ${readsocket}} ("not supported: ${run at offset 0"), other operators, header variables,
 * {@code crypteq} and other conditions, and Exim's {@code fail} keyword. Nothing in this language
 * can reach files, processes or the network.
 *
 * <h2>Limits</h2>
 *
 * <p>A source string holds at most 8192 characters and nests at most
 * 32 levels of {@code ${...}} and and/or groups. Every intermediate and final
 * result holds at most 65536 characters; beyond that evaluation fails (rather than
 * truncating, which could make two different long strings compare equal). A regular expression
 * that backtracks too much on its subject fails too.
 *
 * <h2>Differences from Exim</h2>
 *
 * <ul>
 *   <li>Unknown variable names are rejected when parsing, not when evaluating.
 *   <li>Branches not taken and short-circuited conditions are not evaluated at all, so they can
 *       neither fail nor look variables up.
 *   <li>Regular expressions are Java's, not PCRE; lengths count Unicode characters, not bytes.
 * </ul>
 */
public final class Expansion {
  /** Longest accepted source string, in chars. */
  static final int MAX_SOURCE_LENGTH = 8192;
  /** Deepest accepted nesting of ${...} constructs and and/or groups. */
  static final int MAX_DEPTH = 32;
  /** Longest result (final or intermediate), in chars: 64 KiB. */
  static final int MAX_OUTPUT = 64 * 1024;

  private final String source;
  private final ExpansionNode root;

  private Expansion(String source, ExpansionNode root) {
    this.source = source;
    this.root = root;
  }

  /**
   * Parses an expansion string.
   *
   * @param text the string as written in the configuration
   * @param knownVariables whether a variable name exists (for example "auth1",
   *     "sender_host_address"); names of the form {@code acl_c<digits>}, {@code acl_m<digits>},
   *     {@code acl_c_<name>} and {@code acl_m_<name>} are always known
   * @throws IllegalArgumentException with a message "... at offset N" on a syntax error, an unknown
   *     variable, an unsupported item or condition, or a limit exceeded
   */
  public static Expansion parse(String text, Predicate<String> knownVariables) {
    Objects.requireNonNull(text, "text");
    Objects.requireNonNull(knownVariables, "knownVariables");
    if (text.length() > MAX_SOURCE_LENGTH) {
      throw new IllegalArgumentException("expansion string is " + text.length() + " characters long, more than "
          + MAX_SOURCE_LENGTH + ", at offset " + MAX_SOURCE_LENGTH);
    }
    return new Expansion(text, new ExpansionParser(text, knownVariables).parse());
  }

  /**
   * Expands the string. A known variable that is unset ({@code variables} returns null) expands to
   * the empty string.
   *
   * @throws ExpansionException when a condition inside cannot be evaluated (a {@code bool} or
   *     numeric argument of the wrong form, a bad or too expensive regex built from variables) or a
   *     result exceeds 65536 characters
   */
  public String expand(Function<String, String> variables) {
    Objects.requireNonNull(variables, "variables");
    return new ExpansionContext(variables).evaluate(root);
  }

  /**
   * Evaluates the string as a condition, the way Exim's {@code server_condition} and ACL
   * {@code condition} do: the result "", "0", "no" or "false" is false, "1", "yes" or "true" is
   * true (case-insensitively, no white space allowed), and anything else is an error.
   *
   * @throws ExpansionException when the result is neither true nor false, or {@link #expand} fails;
   *     the message does not contain the result, which may hold variable values such as a password
   */
  public boolean condition(Function<String, String> variables) throws ExpansionException {
    String result = expand(variables);
    if (result.isEmpty() || result.equals("0") || ExpansionCondition.asciiEqualsIgnoreCase(result, "no")
        || ExpansionCondition.asciiEqualsIgnoreCase(result, "false")) {
      return false;
    }
    if (result.equals("1") || ExpansionCondition.asciiEqualsIgnoreCase(result, "yes")
        || ExpansionCondition.asciiEqualsIgnoreCase(result, "true")) {
      return true;
    }
    throw new ExpansionException("condition expanded to a value that is neither true (\"1\", \"yes\", \"true\") nor "
        + "false (\"\", \"0\", \"no\", \"false\")");
  }

  /** The string this expansion was parsed from. */
  public String source() {
    return source;
  }
}
