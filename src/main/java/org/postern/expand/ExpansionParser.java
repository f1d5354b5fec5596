package org.postern.expand;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Recursive-descent parser for {@link Expansion}. It follows the reading rules of Exim's
 * expand.c (which characters end a name, where white space may appear, what a backslash does), so
 * that a string that works in Exim reads the same way here, and reports errors as
 * {@code IllegalArgumentException("what at offset N")}, N counting chars from 0.
 *
 * <p>Error messages quote names and offsets but never a stretch of the source: expansion strings
 * may hold literal passwords ({@code ${if eq{$auth2}{secret}}}), and the message goes to the log.
 */
final class ExpansionParser {
  /**
   * Exim's expansion items other than {@code if}. They are recognised only to be refused by name,
   * before the {@code ${name}} variable form is considered, so {@code ${run}} is "not supported"
   * rather than "unknown variable".
   */
  private static final Set<String> EXIM_ITEMS = Set.of("acl", "authresults", "certextract", "dlfunc", "env",
      "extract", "filter", "hash", "hmac", "imapfolder", "length", "listextract", "listquote", "lookup", "map",
      "nhash", "perl", "prvs", "prvscheck", "readfile", "readsocket", "reduce", "run", "sg", "sort",
      "srs_encode", "substr", "tr");

  /** Exim conditions that exist but are not offered here, so the message says "not supported". */
  private static final Set<String> EXIM_CONDITIONS = Set.of("acl", "crypteq", "exists", "first_delivery",
      "forall", "forall_json", "forall_jsons", "forany", "forany_json", "forany_jsons", "inbound_srs", "inlist",
      "inlisti", "isip", "isip4", "isip6", "ldapauth", "match_address", "match_domain", "match_ip",
      "match_local_part", "pam", "pwcheck", "queue_running", "radius", "saslauthd");

  /** User ACL variables: acl_c0, acl_m9, and Exim's named form acl_c_name / acl_m_name. */
  private static final Pattern ACL_VARIABLE = Pattern.compile("acl_[cm](?:[0-9]+|_[A-Za-z0-9_]+)");

  /** Exim header variables ($h_subject:, $header_from:), which have their own syntax. */
  private static final Pattern HEADER_VARIABLE = Pattern.compile("(?:[rbl]?h|[rbl]?header)_.*");

  private final String src;
  private final Predicate<String> known;
  private int pos;
  private int depth;

  ExpansionParser(String src, Predicate<String> known) {
    this.src = src;
    this.known = known;
  }

  /** Parses the whole string; at the top level '}' is ordinary text, as in Exim. */
  ExpansionNode parse() {
    return parseString(false);
  }

  static boolean isKnownVariable(String name, Predicate<String> known) {
    return ACL_VARIABLE.matcher(name).matches() || known.test(name);
  }

  // --- strings --------------------------------------------------------------------------------

  /** Text up to the end, or (when {@code braceEnds}) up to an unescaped '}', which is not consumed. */
  private ExpansionNode parseString(boolean braceEnds) {
    List<ExpansionNode> parts = new ArrayList<>();
    StringBuilder literal = new StringBuilder();
    while (pos < src.length()) {
      char c = src.charAt(pos);
      if (c == '\\') {
        escape(literal);
      } else if (c == '}' && braceEnds) {
        break;
      } else if (c == '$') {
        flush(literal, parts);
        parts.add(dollar());
      } else {
        // '{' is ordinary text too (Exim): only the '}' that ends an argument is special.
        literal.append(c);
        pos++;
      }
    }
    flush(literal, parts);
    if (parts.isEmpty()) {
      return new ExpansionNode.Literal("");
    }
    return parts.size() == 1 ? parts.get(0) : new ExpansionNode.Sequence(List.copyOf(parts));
  }

  private static void flush(StringBuilder literal, List<ExpansionNode> parts) {
    if (literal.length() > 0) {
      parts.add(new ExpansionNode.Literal(literal.toString()));
      literal.setLength(0);
    }
  }

  /**
   * A backslash, as Exim's expansion reads it: {@code \N...\N} is copied verbatim (the usual way
   * to write a regex), then {@code \n \r \t \b \f \v}, octal {@code \ooo} (up to three digits),
   * hex {@code \xhh} (up to two), and any other character stands for itself ({@code \$ \{ \} \\}).
   * A backslash at the very end is kept.
   */
  private void escape(StringBuilder literal) {
    int n = src.length();
    if (pos + 1 < n && src.charAt(pos + 1) == 'N') {
      int end = src.indexOf("\\N", pos + 2);
      // Exim: an unterminated \N runs to the end of the string.
      int stop = end < 0 ? n : end;
      literal.append(src, pos + 2, stop);
      pos = end < 0 ? n : end + 2;
      return;
    }
    pos++;
    if (pos >= n) {
      literal.append('\\');
      return;
    }
    char c = src.charAt(pos++);
    if (c >= '0' && c <= '7') {
      int value = c - '0';
      for (int k = 0; k < 2 && pos < n && src.charAt(pos) >= '0' && src.charAt(pos) <= '7'; k++) {
        value = value * 8 + src.charAt(pos++) - '0';
      }
      literal.append((char) (value & 0xFF)); // Exim works in bytes: \777 wraps like a C char
      return;
    }
    switch (c) {
      case 'b' -> literal.append('\b');
      case 'f' -> literal.append('\f');
      case 'n' -> literal.append('\n');
      case 'r' -> literal.append('\r');
      case 't' -> literal.append('\t');
      case 'v' -> literal.append('\u000B');
      case 'x' -> {
        int value = 0;
        for (int k = 0; k < 2 && pos < n && Character.digit(src.charAt(pos), 16) >= 0
            && src.charAt(pos) < 128; k++) {
          value = value * 16 + Character.digit(src.charAt(pos++), 16);
        }
        literal.append((char) value);
      }
      default -> literal.append(c);
    }
  }

  // --- $ ----------------------------------------------------------------------------------------

  private ExpansionNode dollar() {
    int start = pos++;
    if (pos < src.length() && isLetter(src.charAt(pos))) {
      return variable(word(), start);
    }
    if (pos < src.length() && isDigit(src.charAt(pos))) {
      return new ExpansionNode.MatchGroup(number());
    }
    if (pos >= src.length() || src.charAt(pos) != '{') {
      throw error("$ not followed by letter, digit or {", start);
    }
    pos++;
    if (pos < src.length() && isDigit(src.charAt(pos))) {
      int n = number();
      if (pos >= src.length() || src.charAt(pos) != '}') {
        throw error("} expected after number", pos);
      }
      pos++;
      return new ExpansionNode.MatchGroup(n);
    }
    if (pos >= src.length() || !isLetter(src.charAt(pos))) {
      throw error("letter or digit expected after ${", pos);
    }
    // Exim allows '-' in item names (${substr_-3_2:...}); reading it keeps the refusal exact.
    String name = itemName();
    if (name.equals("if")) {
      enter(start);
      ExpansionNode node = parseIf(start);
      leave();
      return node;
    }
    if (EXIM_ITEMS.contains(name)) {
      throw error("not supported: ${" + name, start);
    }
    char next = pos < src.length() ? src.charAt(pos) : 0;
    if (next == '}') {
      pos++;
      if (name.indexOf('-') >= 0) {
        throw error("invalid variable name \"" + name + "\"", start);
      }
      return variable(name, start);
    }
    if (next == ':') {
      pos++;
      return operator(name, start);
    }
    throw error("not supported: ${" + name + " (not an expansion item here, or a } is missing after a variable name)",
        start);
  }

  private ExpansionNode variable(String name, int at) {
    if (!isKnownVariable(name, known)) {
      if (HEADER_VARIABLE.matcher(name).matches()) {
        throw error("not supported: $" + name + " (header variables are not available)", at);
      }
      throw error("unknown variable \"" + name + "\"", at);
    }
    return new ExpansionNode.Variable(name);
  }

  private int number() {
    int start = pos;
    while (pos < src.length() && isDigit(src.charAt(pos))) {
      pos++;
    }
    if (pos - start > 6) {
      throw error("match variable number too large", start);
    }
    return Integer.parseInt(src.substring(start, pos));
  }

  private ExpansionNode operator(String name, int start) {
    ExpansionNode.Operator.Kind kind;
    int length = 0;
    if (name.equals("lc")) {
      kind = ExpansionNode.Operator.Kind.LC;
    } else if (name.equals("uc")) {
      kind = ExpansionNode.Operator.Kind.UC;
    } else if (name.startsWith("length_") || name.startsWith("l_")) {
      kind = ExpansionNode.Operator.Kind.LENGTH;
      String n = name.substring(name.indexOf('_') + 1);
      if (!n.matches("[0-9]{1,9}")) {
        throw error("\"${" + name + ":\" needs a non-negative number after the underscore", start);
      }
      length = Integer.parseInt(n);
    } else {
      throw error("not supported: ${" + name + ":", start);
    }
    enter(start);
    ExpansionNode argument = parseString(true);
    close(start, "${" + name + ":");
    leave();
    return new ExpansionNode.Operator(kind, length, argument);
  }

  // --- ${if} --------------------------------------------------------------------------------------

  private ExpansionNode parseIf(int start) {
    skipSpace();
    ExpansionCondition condition = parseCondition();
    skipSpace();
    if (peek() == '}') {
      pos++;
      return new ExpansionNode.If(condition, null, null);
    }
    if (peek() != '{') {
      throw endOfIf(start);
    }
    ExpansionNode yes = braced("'yes' part of ${if");
    skipSpace();
    ExpansionNode no = new ExpansionNode.Literal("");
    if (peek() == '{') {
      no = braced("'no' part of ${if");
      skipSpace();
    }
    if (peek() != '}') {
      throw endOfIf(start);
    }
    pos++;
    return new ExpansionNode.If(condition, yes, no);
  }

  private IllegalArgumentException endOfIf(int start) {
    if (pos >= src.length()) {
      return error("missing } at end of ${if", start);
    }
    if (isLetter(src.charAt(pos))) {
      int at = pos;
      String w = word();
      if (w.equals("fail")) {
        return error("not supported: fail (forced failure in ${if)", at);
      }
      pos = at;
    }
    return error("expected {yes}{no} or } in ${if", pos);
  }

  /** A '{' string '}' argument, at {@link #pos} (which must be the '{'). */
  private ExpansionNode braced(String what) {
    int open = pos++;
    ExpansionNode node = parseString(true);
    close(open, what);
    return node;
  }

  /** Consumes the '}' that parseString(true) stopped at; it only stops early at the end of input. */
  private void close(int open, String what) {
    if (pos >= src.length()) {
      throw error("missing } at end of " + what + " (opened", open, ")");
    }
    pos++;
  }

  // --- conditions -----------------------------------------------------------------------------------

  private ExpansionCondition parseCondition() {
    boolean negate = false;
    for (;;) {
      skipSpace();
      if (peek() != '!') {
        break;
      }
      negate = !negate;
      pos++;
    }
    int at = pos;
    String name;
    char c = peek();
    if (c == '=' || c == '<' || c == '>') {
      pos++;
      if (peek() == '=') {
        pos++;
      }
      name = src.substring(at, pos);
    } else {
      name = word();
    }
    if (name.isEmpty()) {
      throw error(pos >= src.length() ? "condition expected, but the string ended" : "condition name expected", at);
    }
    ExpansionCondition condition = switch (name) {
      case "def" -> def();
      case "and", "or" -> group(name, at);
      case "bool", "bool_lax" -> bool(name, at);
      case "match" -> match(at);
      case "<", "<=", "=", "==", ">", ">=" -> numeric(name, at);
      default -> {
        ExpansionCondition.StringOp op = ExpansionCondition.StringOp.of(name);
        if (op != null) {
          ExpansionNode[] args = arguments(name, 2, new int[2]);
          yield new ExpansionCondition.Compare(op, args[0], args[1]);
        }
        if (EXIM_CONDITIONS.contains(name)) {
          throw error("not supported: condition \"" + name + "\"", at);
        }
        throw error("unknown condition \"" + name + "\"", at);
      }
    };
    return negate ? new ExpansionCondition.Not(condition) : condition;
  }

  private ExpansionCondition def() {
    if (peek() != ':') {
      throw error("\":\" expected after \"def\"", pos);
    }
    pos++;
    int at = pos;
    String name = word();
    if (name.isEmpty()) {
      throw error("variable name omitted after \"def:\"", at);
    }
    if (!isKnownVariable(name, known)) {
      if (HEADER_VARIABLE.matcher(name).matches()) {
        throw error("not supported: def:" + name + " (header variables are not available)", at);
      }
      throw error("unknown variable \"" + name + "\" after \"def:\"", at);
    }
    return new ExpansionCondition.Defined(name);
  }

  private ExpansionCondition group(String name, int at) {
    enter(at);
    skipSpace();
    if (peek() != '{') {
      throw error("missing { after \"" + name + "\"", pos);
    }
    int open = pos++;
    List<ExpansionCondition> members = new ArrayList<>();
    for (;;) {
      skipSpace();
      if (pos >= src.length()) {
        throw error("missing } at end of \"" + name + "\" group (opened", open, ")");
      }
      if (peek() == '}') {
        pos++;
        break;
      }
      if (peek() != '{') {
        throw error("each subcondition inside an \"" + name + "{...}\" condition must be in its own {}", pos);
      }
      pos++;
      members.add(parseCondition());
      skipSpace();
      if (peek() != '}') {
        throw error("missing } at end of condition inside \"" + name + "\" group", pos);
      }
      pos++;
    }
    leave();
    return new ExpansionCondition.Group(name.equals("and"), List.copyOf(members));
  }

  private ExpansionCondition bool(String name, int at) {
    int[] offsets = new int[1];
    ExpansionNode arg = arguments(name, 1, offsets)[0];
    boolean lax = name.equals("bool_lax");
    String constant = arg.constant();
    if (constant != null && ExpansionCondition.parseBool(constant, lax) == null) {
      throw error("\"" + name + "\" condition: value is not a boolean", offsets[0]);
    }
    return new ExpansionCondition.Bool(arg, lax, at);
  }

  private ExpansionCondition numeric(String op, int at) {
    int[] offsets = new int[2];
    ExpansionNode[] args = arguments(op, 2, offsets);
    for (int i = 0; i < 2; i++) {
      String constant = args[i].constant();
      if (constant != null && ExpansionCondition.parseInteger(constant) == null) {
        throw error("\"" + op + "\" condition: argument is not an integer", offsets[i]);
      }
    }
    return new ExpansionCondition.Numeric(op, args[0], args[1], offsets[0], offsets[1]);
  }

  private ExpansionCondition match(int at) {
    int[] offsets = new int[2];
    ExpansionNode[] args = arguments("match", 2, offsets);
    String constant = args[1].constant();
    Pattern compiled = null;
    if (constant != null) {
      try {
        compiled = Pattern.compile(constant);
      } catch (PatternSyntaxException e) {
        throw error("\"match\" condition: invalid regular expression (" + e.getDescription() + " near index "
            + e.getIndex() + " of the regex)", offsets[1]);
      }
    }
    return new ExpansionCondition.Match(args[0], args[1], compiled, at);
  }

  /** {@code count} brace-enclosed arguments, white space allowed before each; their offsets go to {@code at}. */
  private ExpansionNode[] arguments(String name, int count, int[] at) {
    ExpansionNode[] args = new ExpansionNode[count];
    for (int i = 0; i < count; i++) {
      skipSpace();
      if (peek() != '{') {
        throw error(i == 0 ? "missing { after \"" + name + "\"" : "missing 2nd string in {} after \"" + name + "\"",
            pos);
      }
      at[i] = pos + 1;
      args[i] = braced("argument of \"" + name + "\"");
    }
    return args;
  }

  // --- lexing helpers ---------------------------------------------------------------------------------

  private char peek() {
    return pos < src.length() ? src.charAt(pos) : 0;
  }

  private void skipSpace() {
    while (pos < src.length() && ExpansionCondition.isSpace(src.charAt(pos))) {
      pos++;
    }
  }

  /** Exim's read_name: letters, digits and underscores. */
  private String word() {
    int start = pos;
    while (pos < src.length() && (isLetter(src.charAt(pos)) || isDigit(src.charAt(pos)) || src.charAt(pos) == '_')) {
      pos++;
    }
    return src.substring(start, pos);
  }

  private String itemName() {
    int start = pos;
    while (pos < src.length()) {
      char c = src.charAt(pos);
      if (!(isLetter(c) || isDigit(c) || c == '_' || c == '-')) {
        break;
      }
      pos++;
    }
    return src.substring(start, pos);
  }

  /** ASCII only: Exim's isalpha in the C locale. */
  private static boolean isLetter(char c) {
    return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z';
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  /**
   * Nesting is counted per ${...} construct and per and/or group. The limit keeps the recursion of
   * both the parser and the evaluator shallow whatever the configuration holds.
   */
  private void enter(int at) {
    if (++depth > Expansion.MAX_DEPTH) {
      throw error("nesting deeper than " + Expansion.MAX_DEPTH + " levels", at);
    }
  }

  private void leave() {
    depth--;
  }

  private static IllegalArgumentException error(String what, int offset) {
    return new IllegalArgumentException(what + " at offset " + offset);
  }

  private static IllegalArgumentException error(String what, int offset, String after) {
    return new IllegalArgumentException(what + " at offset " + offset + after);
  }
}
