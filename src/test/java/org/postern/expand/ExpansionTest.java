package org.postern.expand;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ExpansionTest {

  private static final Set<String> KNOWN = Set.of("auth1", "auth2", "local_part", "domain", "sender_host_address",
      "x", "n", "empty", "unset", "big");

  private static final Map<String, String> VARS = Map.of("auth1", "alice", "auth2", "s3cret", "local_part",
      "Bob.Smith", "domain", "example.com", "sender_host_address", "192.0.2.1", "n", "42", "empty", "");

  private static Expansion parse(String text) {
    return Expansion.parse(text, KNOWN::contains);
  }

  private static String expand(String text) {
    return parse(text).expand(VARS::get);
  }

  private static String expand(String text, Map<String, String> extra) {
    Map<String, String> vars = new HashMap<>(VARS);
    vars.putAll(extra);
    return parse(text).expand(vars::get);
  }

  private static String parseError(String text) {
    return assertThrows(IllegalArgumentException.class, () -> parse(text), text).getMessage();
  }

  // --- text and variables ----------------------------------------------------------------------

  @Test
  void plainTextIsCopiedAndBracesAtTopLevelAreText() {
    assertEquals("hello, world", expand("hello, world"));
    assertEquals("", expand(""));
    assertEquals("a}b{c", expand("a}b{c"));
  }

  @Test
  void variablesInBothForms() {
    assertEquals("<alice>alices", expand("<$auth1>${auth1}s"));
    assertEquals("Bob.Smith@example.com", expand("$local_part@$domain"));
    assertEquals("[192.0.2.1]:", expand("[${sender_host_address}]:"));
  }

  @Test
  void knownButUnsetVariablesAreEmpty() {
    assertEquals("[][]", expand("[$unset][${empty}]"));
  }

  @Test
  void unknownVariableIsRefusedAtParseTime() {
    assertEquals("unknown variable \"nosuch\" at offset 4", parseError("ok, $nosuch"));
    assertEquals("unknown variable \"nosuch\" at offset 0", parseError("${nosuch}"));
    assertEquals("unknown variable \"auth1_\" at offset 1", parseError("x$auth1_"));
    assertEquals("unknown variable \"nosuch\" after \"def:\" at offset 9", parseError("${if def:nosuch}"));
    // Even in a branch that would never be taken.
    assertTrue(parseError("${if eq{a}{b}{$typo}}").startsWith("unknown variable \"typo\""));
  }

  @Test
  void knownVariablesIsAskedOnlyAtParseTime() {
    List<String> asked = new ArrayList<>();
    Expansion e = Expansion.parse("$auth1 $auth1 ${if def:auth2{x}}", name -> asked.add(name));
    assertEquals(List.of("auth1", "auth1", "auth2"), asked);
    e.expand(VARS::get);
    assertEquals(3, asked.size());
  }

  @Test
  void aclVariablesAreAlwaysKnown() {
    Map<String, String> vars = Map.of("acl_m0", "zero", "acl_c12", "twelve", "acl_m_count", "3");
    Expansion e = Expansion.parse("$acl_m0 ${acl_c12} $acl_m_count$acl_c1", name -> false);
    assertEquals("zero twelve 3", e.expand(vars::get));
    Predicate<String> none = name -> false;
    assertThrows(IllegalArgumentException.class, () -> Expansion.parse("$acl_x1", none));
    assertThrows(IllegalArgumentException.class, () -> Expansion.parse("$acl_m", none));
    assertThrows(IllegalArgumentException.class, () -> Expansion.parse("$acl_mx", none));
  }

  @Test
  void headerVariablesAreRefusedWithAClearMessage() {
    assertEquals("not supported: $h_subject (header variables are not available) at offset 0",
        parseError("$h_subject:"));
  }

  // --- escapes ------------------------------------------------------------------------------------

  @Test
  void backslashMakesSpecialCharactersLiteral() {
    assertEquals("$auth1 { } \\ x", expand("\\$auth1 \\{ \\} \\\\ \\x78"));
    assertEquals("yes", expand("${if eq{a\\}b}{a\\}b}{yes}{no}}"));
    assertEquals("a}", expand("${if eq{1}{1}{a\\}}}"));
  }

  @Test
  void controlCharacterEscapesAsInExim() {
    assertEquals("a\nb\tc\rAA8q", expand("a\\nb\\tc\\r\\x41\\101\\8\\q"));
    assertEquals("x\\", expand("x\\"));
  }

  @Test
  void noExpandRegionIsCopiedVerbatim() {
    assertEquals("$x ${run{a}} \\n}", expand("\\N$x ${run{a}} \\n}\\N"));
    assertEquals("yes", expand("${if match{$local_part}{\\N^Bob\\.Smith$\\N}{yes}{no}}"));
    // An unterminated \N runs to the end, as in Exim.
    assertEquals("ab$", expand("a\\Nb$"));
  }

  @Test
  void dollarAtEndOfRegexMustBeEscaped() {
    assertEquals("$ not followed by letter, digit or { at offset 16", parseError("${if match{a}{^a$}}"));
    assertEquals("true", expand("${if match{a}{^a\\$}}"));
  }

  // --- parse errors -------------------------------------------------------------------------------

  @ParameterizedTest
  @CsvSource(delimiter = '|', quoteCharacter = '~', value = {
      "${if eq{a}{b}            | missing } at end of ${if at offset 0",
      "x${lc:abc                | missing } at end of ${lc: (opened at offset 1)",
      "${if eq{a}{b}{yes        | missing } at end of 'yes' part of ${if (opened at offset 13)",
      "$                        | $ not followed by letter, digit or { at offset 0",
      "a $-                     | $ not followed by letter, digit or { at offset 2",
      "${if eq{a}}              | missing 2nd string in {} after \"eq\" at offset 10",
      "${if eq a}               | missing { after \"eq\" at offset 8",
      "${if nosuch{a}{b}}       | unknown condition \"nosuch\" at offset 5",
      "${if }                   | condition name expected at offset 5",
      "${if                     | condition expected, but the string ended at offset 4",
      "${if def{x}}             | \":\" expected after \"def\" at offset 8",
      "${if def:}               | variable name omitted after \"def:\" at offset 9",
      "${if and{{eq{a}{b}} eq{a}{b}}} | each subcondition inside an \"and{...}\" condition must be in its own {} at offset 20",
      "${if and{{eq{a}{b}}      | missing } at end of \"and\" group (opened at offset 8)",
      "${if or{{eq{a}{b} x}}    | missing } at end of condition inside \"or\" group at offset 18",
      "${if eq{a}{b} {y} x}     | expected {yes}{no} or } in ${if at offset 18",
      "${if eq{a}{b}{y} fail}   | not supported: fail (forced failure in ${if) at offset 17",
      "${1x}                    | } expected after number at offset 3",
      "${ x}                    | letter or digit expected after ${ at offset 2",
      "${if >{abc}{1}}          | \">\" condition: argument is not an integer at offset 7",
      "${if bool{maybe}}        | \"bool\" condition: value is not a boolean at offset 10",
      "${length_x:abc}          | \"${length_x:\" needs a non-negative number after the underscore at offset 0",
      "${lc x}                  | not supported: ${lc (not an expansion item here, or a } is missing after a variable name) at offset 0",
      "${auth-1}                | invalid variable name \"auth-1\" at offset 0",
  })
  void syntaxErrorsSayWhatAndWhere(String source, String message) {
    assertEquals(message, parseError(source.strip()));
  }

  @Test
  void invalidConstantRegexIsFoundAtParseTime() {
    String m = parseError("${if match{a}{(}}");
    assertTrue(m.startsWith("\"match\" condition: invalid regular expression ("), m);
    assertTrue(m.endsWith(" at offset 14"), m);
  }

  // --- refused items --------------------------------------------------------------------------------

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "${run{/bin/sh -c reboot}}                    | not supported: ${run at offset 0",
      "${run}                                       | not supported: ${run at offset 0",
      "x ${lookup{a}lsearch{/etc/passwd}}           | not supported: ${lookup at offset 2",
      "${readsocket{inet:localhost:25}{QUIT}}       | not supported: ${readsocket at offset 0",
      "${readfile{/etc/passwd}}                     | not supported: ${readfile at offset 0",
      "${perl{x}}                                   | not supported: ${perl at offset 0",
      "${if eq{a}{b}{${run{x}}}}                    | not supported: ${run at offset 14",
      "${md5:x}                                     | not supported: ${md5: at offset 0",
      "${if crypteq{$auth2}{{md5}abc}}              | not supported: condition \"crypteq\" at offset 5",
      "${if exists{/etc/passwd}}                    | not supported: condition \"exists\" at offset 5",
      "${if pam{$auth1:$auth2}}                     | not supported: condition \"pam\" at offset 5",
  })
  void dangerousAndUnsupportedItemsAreRefusedAtParseTime(String source, String message) {
    assertEquals(message, parseError(source.strip()));
  }

  // --- conditions ---------------------------------------------------------------------------------

  /** Each condition, evaluated both as written and negated with '!'. */
  @ParameterizedTest
  @CsvSource(delimiter = '|', quoteCharacter = '~', value = {
      "eq{$auth1}{alice}                | true",
      "eq{$auth1}{Alice}                | false",
      "eq{}{$unset}                     | true",
      "eqi{$auth1}{ALICE}               | true",
      "eqi{$auth1}{bob}                 | false",
      "eqi{ſ}{S}                        | false",
      "match{$local_part}{^Bob}         | true",
      "match{$local_part}{Smith}        | true",
      "match{$local_part}{^Smith}       | false",
      "match{$local_part}{(?i)^bob}     | true",
      "match{$domain}{$auth1}           | false",
      "def:auth1                        | true",
      "def:empty                        | false",
      "def:unset                        | false",
      "and{{eq{a}{a}}{eq{b}{b}}}        | true",
      "and{{eq{a}{a}}{eq{b}{c}}}        | false",
      "and{ }                           | true",
      "or{{eq{a}{b}} {eq{b}{b}}}        | true",
      "or{{eq{a}{b}}{eq{b}{c}}}         | false",
      "or{}                             | false",
      "bool{yes}                        | true",
      "bool{ TRUE }                     | true",
      "bool{1}                          | true",
      "bool{-5}                         | true",
      "bool{0}                          | false",
      "bool{00}                         | false",
      "bool{No}                         | false",
      "bool{false}                      | false",
      "bool{}                           | false",
      "bool_lax{anything}               | true",
      "bool_lax{00}                     | true",
      "bool_lax{0}                      | false",
      "bool_lax{False}                  | false",
      "=={10}{10}                       | true",
      "={10}{11}                        | false",
      "=={1K}{1024}                     | true",
      "=={2m}{2097152}                  | true",
      "=={ +7 }{7}                      | true",
      "=={}{0}                          | true",
      "<{2}{10}                         | true",
      "<{10}{2}                         | false",
      "<={10}{10}                       | true",
      "<={11}{10}                       | false",
      ">{$n}{5}                         | true",
      ">{-3}{2}                         | false",
      ">={10}{10}                       | true",
      ">={9}{10}                        | false",
      "lt{2}{10}                        | false",
      "lt{a}{b}                         | true",
      "le{a}{a}                         | true",
      "gt{b}{a}                         | true",
      "ge{a}{b}                         | false",
      "lti{A}{b}                        | true",
      "lei{A}{a}                        | true",
      "gti{B}{a}                        | true",
      "gei{a}{B}                        | false",
  })
  void conditionAndItsNegation(String condition, boolean expected) {
    String c = condition.strip();
    assertEquals(expected ? "T" : "F", expand("${if " + c + " {T}{F}}"), c);
    assertEquals(expected ? "F" : "T", expand("${if !" + c + " {T}{F}}"), "!" + c);
    assertEquals(expected ? "T" : "F", expand("${if !!" + c + " {T}{F}}"), "!!" + c);
  }

  @Test
  void negationAppliesToGroupsAndAllowsSpaces() {
    assertEquals("T", expand("${if ! and{{eq{a}{a}}{eq{a}{b}}}{T}{F}}"));
    assertEquals("F", expand("${if ! or{{eq{a}{a}}{eq{a}{b}}}{T}{F}}"));
    assertEquals("T", expand("${if and{{!eq{a}{b}}{! def:empty}}{T}{F}}"));
  }

  @Test
  void ordersByCodePointLikeEximOnUtf8() {
    // U+FFFD sorts before U+1F600 as code points (and UTF-8 bytes) but after it as UTF-16 units.
    assertEquals("T", expand("${if lt{\uFFFD}{\uD83D\uDE00}{T}{F}}"));
  }

  // --- ${if} forms --------------------------------------------------------------------------------

  @Test
  void ifForms() {
    assertEquals("yes", expand("${if eq{a}{a}{yes}{no}}"));
    assertEquals("no", expand("${if eq{a}{b}{yes}{no}}"));
    assertEquals("", expand("${if eq{a}{b}{yes}}"));
    assertEquals("yes", expand("${if eq{a}{a}{yes}}"));
    assertEquals("true", expand("${if eq{a}{a}}"));
    assertEquals("", expand("${if eq{a}{b}}"));
    assertEquals("<yes>", expand("<${if  eq {$auth1} {alice}\n  {yes}  {no} }>"));
  }

  @Test
  void nestedIf() {
    String s = "${if eq{$auth1}{alice}{${if eq{$auth2}{s3cret}{both}{user only}}}{${if def:auth2{other}{none}}}}";
    assertEquals("both", expand(s));
    assertEquals("user only", expand(s, Map.of("auth2", "wrong")));
    assertEquals("other", expand(s, Map.of("auth1", "bob")));
    assertEquals("none", expand(s, Map.of("auth1", "bob", "auth2", "")));
    assertEquals("y", expand("${if eq{${if def:auth1{set}}}{set}{y}{n}}"));
  }

  // --- short-circuit --------------------------------------------------------------------------------

  private static List<String> lookups(String text) {
    List<String> seen = new ArrayList<>();
    parse(text).expand(name -> {
      seen.add(name);
      return VARS.get(name);
    });
    return seen;
  }

  @Test
  void andStopsAtFirstFalse() {
    assertEquals(List.of(), lookups("${if and{{eq{a}{b}}{eq{$auth1}{x}}}}"));
    assertEquals(List.of("auth1"), lookups("${if and{{eq{a}{a}}{eq{$auth1}{x}}}}"));
    assertEquals("", expand("${if and{{eq{a}{b}}{bool{$x}}}}", Map.of("x", "maybe")));
    assertThrows(ExpansionException.class, () -> expand("${if and{{eq{a}{a}}{bool{$x}}}}", Map.of("x", "maybe")));
  }

  @Test
  void orStopsAtFirstTrue() {
    assertEquals(List.of(), lookups("${if or{{eq{a}{a}}{eq{$auth1}{x}}}}"));
    assertEquals(List.of("auth1"), lookups("${if or{{eq{a}{b}}{eq{$auth1}{x}}}}"));
    assertEquals("true", expand("${if or{{eq{a}{a}}{bool{$x}}}}", Map.of("x", "maybe")));
    assertThrows(ExpansionException.class, () -> expand("${if or{{eq{a}{b}}{bool{$x}}}}", Map.of("x", "maybe")));
  }

  @Test
  void branchNotTakenIsNotEvaluated() {
    assertEquals(List.of("domain"), lookups("${if eq{a}{b}{$auth1}{$domain}}"));
    assertEquals("no", expand("${if eq{a}{b}{${if bool{$x}{1}}}{no}}", Map.of("x", "maybe")));
  }

  // --- match variables ---------------------------------------------------------------------------

  @Test
  void matchSetsNumericVariablesForTheYesString() {
    assertEquals("Smith, Bob (Bob.Smith)",
        expand("${if match{$local_part}{\\N^(\\w+)\\.(\\w+)$\\N}{$2, $1 (${0})}{none}}"));
    assertEquals("[]", expand("${if match{ab}{(a)(x)?}{[$2]}}"));
    assertEquals("[]", expand("[$1]"));
  }

  @Test
  void numericVariablesAreRestoredAtTheEndOfTheIf() {
    assertEquals("a-", expand("${if match{ab}{(a)}{$1}}-$1"));
    assertEquals("zx", expand("${if match{xy}{(x)}{${if match{zz}{(z)}{$1}}$1}}"));
    assertEquals("ok", expand("${if and{{match{ab}{(a)}}{eq{$1}{a}}}{ok}{bad}}"));
  }

  @Test
  void evaluationsDoNotShareState() {
    Expansion e = parse("${if match{$x}{\\N^(\\d+)-\\N}{$1}}");
    List<String> results = IntStream.range(0, 2000).parallel()
        .mapToObj(i -> e.expand(name -> name.equals("x") ? i + "-" : null)).toList();
    for (int i = 0; i < results.size(); i++) {
      assertEquals(String.valueOf(i), results.get(i));
    }
  }

  // --- operators ----------------------------------------------------------------------------------

  @Test
  void caseAndLengthOperators() {
    assertEquals("bob.smith", expand("${lc:$local_part}"));
    assertEquals("ABC-ALICE", expand("${uc:${lc:AbC}-$auth1}"));
    assertEquals("ali", expand("${length_3:$auth1}"));
    assertEquals("abc", expand("${l_10:abc}"));
    assertEquals("", expand("${length_0:abc}"));
    assertEquals("\uD83D\uDE00", expand("${length_1:\uD83D\uDE00x}"));
    // ASCII only, as in Exim: é stays, and the German sharp s does not become "SS".
    assertEquals("éSS\u00DF", expand("${uc:éss\u00DF}"));
  }

  // --- condition() ------------------------------------------------------------------------------

  @ParameterizedTest
  @ValueSource(strings = {"", "0", "no", "NO", "No", "false", "False", "FALSE"})
  void conditionFalseValues(String value) {
    assertFalse(parse("$x").condition(Map.of("x", value)::get));
  }

  @ParameterizedTest
  @ValueSource(strings = {"1", "yes", "YES", "Yes", "true", "TrUe"})
  void conditionTrueValues(String value) {
    assertTrue(parse("$x").condition(Map.of("x", value)::get));
  }

  @ParameterizedTest
  @ValueSource(strings = {"2", "-1", "00", " yes", "no ", "on", "maybe", "s3cret-password", "yeſ"})
  void conditionOtherValuesAreErrorsThatDoNotRevealTheValue(String value) {
    ExpansionException e = assertThrows(ExpansionException.class,
        () -> parse("$x").condition(Map.of("x", value)::get));
    assertEquals("condition expanded to a value that is neither true (\"1\", \"yes\", \"true\") nor false "
        + "(\"\", \"0\", \"no\", \"false\")", e.getMessage());
  }

  @Test
  void unsetVariableIsFalse() {
    assertFalse(parse("$x").condition(name -> null));
  }

  @Test
  void typicalServerCondition() {
    Expansion e = parse("${if and{{eq{$auth2}{alice}}{eq{$auth1}{s3cret}}}}");
    assertFalse(e.condition(VARS::get));
    Expansion ok = parse("${if and {{eq{$auth1}{alice}} {eq{$auth2}{s3cret}}}}");
    assertTrue(ok.condition(VARS::get));
    assertFalse(ok.condition(name -> name.equals("auth1") ? "alice" : "guess"));
  }

  // --- evaluation errors --------------------------------------------------------------------------

  @Test
  void nonIntegerFromVariableFailsWithoutTheValue() {
    ExpansionException e = assertThrows(ExpansionException.class,
        () -> expand("${if >{$x}{5}}", Map.of("x", "zebra")));
    assertEquals("\">\" condition: argument is not an integer at offset 7", e.getMessage());
    assertThrows(ExpansionException.class, () -> expand("${if >{$x}{5}}", Map.of("x", "99999999999999999999")));
    assertThrows(ExpansionException.class, () -> expand("${if >{$x}{5}}", Map.of("x", "9223372036854775807K")));
    assertEquals("true", expand("${if <{$x}{0}}", Map.of("x", "-9223372036854775808")));
  }

  @Test
  void badBoolFromVariableFailsWithoutTheValue() {
    ExpansionException e = assertThrows(ExpansionException.class,
        () -> parse("${if bool{$x}}").condition(Map.of("x", "zebra")::get));
    assertEquals("\"bool\" condition: value is not a boolean at offset 5", e.getMessage());
  }

  @Test
  void invalidRegexFromVariableFailsWithoutTheValue() {
    ExpansionException e = assertThrows(ExpansionException.class,
        () -> expand("${if match{a}{$x}}", Map.of("x", "(zebra")));
    assertTrue(e.getMessage().startsWith("\"match\" condition: invalid regular expression"), e.getMessage());
    assertFalse(e.getMessage().contains("zebra"), e.getMessage());
  }

  @Test
  void catastrophicBacktrackingIsStopped() {
    // Exponential in java.util.regex (unlike (a+)+, which it memoizes): seconds to hours.
    Expansion e = parse("${if match{$x}{\\N^(.*a){20}$\\N}}");
    // Preemptive, so that without the guard this fails instead of hanging the build.
    ExpansionException ex = assertTimeoutPreemptively(Duration.ofSeconds(5), () -> assertThrows(
        ExpansionException.class, () -> e.expand(Map.of("x", "a".repeat(40) + "!")::get)));
    assertEquals("\"match\" condition: regular expression too expensive for the subject at offset 5", ex.getMessage());
    // The same regex on a short subject, and a linear one on a near-maximal subject, are fine.
    assertEquals("", e.expand(Map.of("x", "a".repeat(5))::get));
    assertEquals("true", parse("${if match{$x}{\\N[b-z]+!$\\N}}").expand(Map.of("x", "a".repeat(60_000) + "b!")::get));
  }

  // --- limits -------------------------------------------------------------------------------------

  @Test
  void sourceLengthLimit() {
    assertEquals(8192, parse("a".repeat(8192)).expand(VARS::get).length());
    assertTrue(parseError("a".repeat(8193)).endsWith("at offset 8192"));
  }

  @Test
  void nestingDepthLimit() {
    String ok = "${lc:".repeat(32) + "X" + "}".repeat(32);
    assertEquals("x", expand(ok));
    String deep = "${lc:".repeat(33) + "X" + "}".repeat(33);
    assertEquals("nesting deeper than 32 levels at offset 160", parseError(deep));

    // ${if counts as one level, each and/or group as another.
    String groups31 = "${if " + "and{{".repeat(31) + "eq{a}{a}" + "}}".repeat(31) + "}";
    assertEquals("true", expand(groups31));
    String groups32 = "${if " + "and{{".repeat(32) + "eq{a}{a}" + "}}".repeat(32) + "}";
    assertEquals("nesting deeper than 32 levels at offset 160", parseError(groups32));
  }

  @Test
  void outputLimitFailsRatherThanTruncates() {
    Expansion e = parse("$big");
    assertEquals(65536, e.expand(Map.of("big", "b".repeat(65536))::get).length());
    assertThrows(ExpansionException.class, () -> e.expand(Map.of("big", "b".repeat(65537))::get));

    Function<String, String> half = Map.of("big", "b".repeat(40_000))::get;
    assertThrows(ExpansionException.class, () -> parse("$big$big").expand(half));
    // Intermediate strings are limited too, even when the final result is short.
    assertThrows(ExpansionException.class, () -> parse("${if eq{$big$big}{x}{y}{n}}").expand(half));
    assertThrows(ExpansionException.class, () -> parse("${length_1:$big$big}").expand(half));
  }

  // --- misc ---------------------------------------------------------------------------------------

  @Test
  void sourceIsKept() {
    String text = "${if eq{$auth1}{alice}{ok}}";
    assertEquals(text, parse(text).source());
  }

  @Test
  void nullArgumentsAreRejected() {
    assertThrows(NullPointerException.class, () -> Expansion.parse(null, KNOWN::contains));
    assertThrows(NullPointerException.class, () -> Expansion.parse("x", null));
    assertThrows(NullPointerException.class, () -> parse("x").expand(null));
  }
}
