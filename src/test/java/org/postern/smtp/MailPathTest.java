package org.postern.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class MailPathTest {

  private static final String L64 = "a".repeat(64);
  private static final String LABEL63 = "b".repeat(63);

  /** argument, allowNull, expected localPart, expected domain. */
  static Stream<Arguments> validPaths() {
    return Stream.of(
        Arguments.of("<a@b.example>", true, "a", "b.example"),
        Arguments.of("<a@b.example>", false, "a", "b.example"),
        Arguments.of(" <a@b.example>", true, "a", "b.example"),
        Arguments.of("   <a@b.example>", false, "a", "b.example"),
        Arguments.of("<a@b.example>   ", true, "a", "b.example"),
        Arguments.of("<First.Last@Example.COM>", true, "First.Last", "Example.COM"),
        Arguments.of("<x!#$%&'*+-/=?^_`{|}~y@d.example>", true, "x!#$%&'*+-/=?^_`{|}~y",
            "d.example"),
        Arguments.of("<\"john doe\"@d.example>", true, "\"john doe\"", "d.example"),
        Arguments.of("<\"a\\\"b\\\\c\"@d.example>", true, "\"a\\\"b\\\\c\"", "d.example"),
        Arguments.of("<\"a>b@c\"@d.example>", true, "\"a>b@c\"", "d.example"),
        Arguments.of("<\".dots..\"@d.example>", true, "\".dots..\"", "d.example"),
        Arguments.of("<a@[192.0.2.1]>", true, "a", "[192.0.2.1]"),
        Arguments.of("<a@[IPv6:2001:db8::1]>", true, "a", "[IPv6:2001:db8::1]"),
        Arguments.of("<a@[ipv6:::1]>", true, "a", "[ipv6:::1]"),
        Arguments.of("<a@[IPv6:1:2:3:4:5:6:7:8]>", true, "a", "[IPv6:1:2:3:4:5:6:7:8]"),
        Arguments.of("<a@[IPv6:::ffff:192.0.2.1]>", true, "a", "[IPv6:::ffff:192.0.2.1]"),
        Arguments.of("<a@xn--bcher-kva.example>", true, "a", "xn--bcher-kva.example"),
        Arguments.of("<a@b-c.d1.example>", true, "a", "b-c.d1.example"),
        Arguments.of("<a@localhost>", true, "a", "localhost"),
        Arguments.of("<a@123.example>", true, "a", "123.example"),
        Arguments.of("<jöran@bücher.example>", true, "jöran", "bücher.example"),
        Arguments.of("<@a.example,@b.example:user@c.example>", true, "user", "c.example"),
        Arguments.of("<@a.example:user@c.example>", false, "user", "c.example"),
        Arguments.of("<@[192.0.2.1]:user@c.example>", false, "user", "c.example"),
        Arguments.of("<postmaster>", false, "postmaster", ""),
        Arguments.of("<PostMaster>", false, "PostMaster", ""),
        Arguments.of("<postmaster@d.example>", true, "postmaster", "d.example"),
        Arguments.of("a@b.example", true, "a", "b.example"),
        Arguments.of(" a@b.example", false, "a", "b.example"),
        Arguments.of("postmaster", false, "postmaster", ""),
        Arguments.of("\"q\"@b.example", true, "\"q\"", "b.example"),
        Arguments.of("<" + L64 + "@d.example>", true, L64, "d.example"),
        Arguments.of("<a@" + LABEL63 + ".example>", true, "a", LABEL63 + ".example"));
  }

  @ParameterizedTest
  @MethodSource("validPaths")
  void parsesValidPaths(String argument, boolean allowNull, String local, String domain)
      throws MailPathException {
    MailPath p = MailPath.parse(argument, allowNull);
    assertEquals(local, p.localPart());
    assertEquals(domain, p.domain());
    assertTrue(p.parameters().isEmpty());
    assertFalse(p.isNull());
  }

  /** argument, allowNull. */
  static Stream<Arguments> syntaxErrors() {
    return Stream.of(
        Arguments.of("", true),
        Arguments.of("   ", true),
        Arguments.of("<>", false),
        Arguments.of("<", true),
        Arguments.of("<a@b.example", true),
        Arguments.of("<a@b.example SIZE=1", true),
        Arguments.of("a@b.example>", true),
        Arguments.of("< a@b.example>", true),
        Arguments.of("<a@b.example >", true),
        Arguments.of("<a @b.example>", true),
        Arguments.of("<a@ b.example>", true),
        Arguments.of("<a b@c.example>", true),
        Arguments.of("<a@b.example>SIZE=1", true),
        Arguments.of("<a@b.example>x", true),
        Arguments.of("<a@b.example>>", true),
        Arguments.of("<<a@b.example>>", true),
        Arguments.of("<a@b.example>\r\n", true),
        Arguments.of("<a@b.example>\n", true),
        Arguments.of("<a@b.ex\rample>", true),
        Arguments.of("<a\u0000@b.example>", true),
        Arguments.of("<a@b.example> SIZE=1\u0000", true),
        Arguments.of("<a\t@b.example>", true),
        Arguments.of("\t<a@b.example>", true),
        Arguments.of("<a\u007f@b.example>", true),
        Arguments.of("<\"a@b.example>", true),
        Arguments.of("<\"a\"b@c.example>", true),
        Arguments.of("<\"ab\\\"@c.example>", true),
        Arguments.of("<\"\"@c.example>", true),
        Arguments.of("<@b.example>", true),
        Arguments.of("<a@>", true),
        Arguments.of("<a>", true),
        Arguments.of("<a>", false),
        Arguments.of("<postmaster>", true),
        Arguments.of("<postmaster.x>", false),
        Arguments.of("<\"postmaster\">", false),
        Arguments.of("postmaster", true),
        Arguments.of("<a@b..c>", true),
        Arguments.of("<a@.b.c>", true),
        Arguments.of("<a@b.c.>", true),
        Arguments.of("<a@-b.c>", true),
        Arguments.of("<a@b-.c>", true),
        Arguments.of("<a@b_c.example>", true),
        Arguments.of("<a@b@c.example>", true),
        Arguments.of("<.a@b.example>", true),
        Arguments.of("<a.@b.example>", true),
        Arguments.of("<a..b@c.example>", true),
        Arguments.of("<a(comment)@b.example>", true),
        Arguments.of("<a,b@c.example>", true),
        Arguments.of("<a@[192.0.2.256]>", true),
        Arguments.of("<a@[192.0.2]>", true),
        Arguments.of("<a@[2001:db8::1]>", true),
        Arguments.of("<a@[IPv6:2001:db8:::1]>", true),
        Arguments.of("<a@[IPv6:1:2:3:4:5:6:7:8:9]>", true),
        Arguments.of("<a@[IPv6:1::2::3]>", true),
        Arguments.of("<a@[IPv6:fe80::1%eth0]>", true),
        Arguments.of("<a@[x-tag:foo]>", true),
        Arguments.of("<a@[192.0.2.1>", true),
        Arguments.of("<a@[192.0.2.1]x>", true),
        Arguments.of("<@a.example>", true),
        Arguments.of("<@a.example:>", true),
        Arguments.of("<@a..example:u@b.example>", true),
        Arguments.of("<@a.example;u@b.example>", true),
        Arguments.of("<@a.example,b.example:u@c.example>", true),
        Arguments.of("@a.example:u@b.example", true),
        Arguments.of("\"a b\"@c.example", true),
        Arguments.of("a@b.example,c@d.example", true),
        Arguments.of("<" + L64 + "x@d.example>", true),
        Arguments.of("<a@" + LABEL63 + "x.example>", true),
        Arguments.of("<a@" + longDomain(256) + ">", true),
        Arguments.of("<abc@" + longDomain(251) + ">", true),
        Arguments.of("abc@" + longDomain(251), true),
        Arguments.of("<@" + longDomain(200) + ":a@" + longDomain(60) + ">", true));
  }

  @ParameterizedTest
  @MethodSource("syntaxErrors")
  void rejectsMalformedPathsAsSyntax(String argument, boolean allowNull) {
    MailPathException e =
        assertThrows(MailPathException.class, () -> MailPath.parse(argument, allowNull));
    assertEquals(MailPathException.Kind.SYNTAX, e.kind(), e.getMessage());
  }

  @Test
  void rejectsNullArgument() {
    MailPathException e = assertThrows(MailPathException.class, () -> MailPath.parse(null, true));
    assertEquals(MailPathException.Kind.SYNTAX, e.kind());
  }

  @Test
  void errorMessagesDoNotEchoControlCharacters() {
    MailPathException e = assertThrows(MailPathException.class,
        () -> MailPath.parse("<a@b.example>\r\nRCPT TO:<x@y>", true));
    assertFalse(e.getMessage().contains("\r") || e.getMessage().contains("\n"));
    assertTrue(e.getMessage().contains("U+000D"), e.getMessage());
  }

  @Test
  void domainAtExactLimitsIsAccepted() throws MailPathException {
    // 255-octet domain, 1-octet local part, brackets and '@': 259 > 256, so the path limit bites
    // first; a 251-octet domain with "ab@" fits exactly in 256.
    String domain251 = longDomain(251);
    assertEquals(251, domain251.length());
    MailPath p = MailPath.parse("<ab@" + domain251 + ">", true);
    assertEquals(domain251, p.domain());
    assertThrows(MailPathException.class, () -> MailPath.parse("<a@" + longDomain(255) + ">", true));
  }

  @Test
  void nullPath() throws MailPathException {
    MailPath p = MailPath.parse("<>", true);
    assertTrue(p.isNull());
    assertEquals("", p.address());
    assertEquals("", p.localPart());
    assertEquals("", p.domain());
    MailPath withParams = MailPath.parse(" <> SIZE=0 BODY=7BIT", true);
    assertTrue(withParams.isNull());
    assertEquals(Map.of("SIZE", "0", "BODY", "7BIT"), withParams.parameters());
  }

  @Test
  void nullPathRejectedForRcpt() {
    MailPathException e = assertThrows(MailPathException.class, () -> MailPath.parse("<>", false));
    assertEquals(MailPathException.Kind.SYNTAX, e.kind());
  }

  @Test
  void addressKeepsLocalPartAsSentAndDomainCase() throws MailPathException {
    MailPath p = MailPath.parse("<\"John Doe\"@Example.COM>", true);
    assertEquals("\"John Doe\"@Example.COM", p.address());
    assertEquals("Example.COM", p.domain());
    assertEquals("example.com", p.domainLowerCase());
    assertEquals("postmaster", MailPath.parse("<postmaster>", false).address());
  }

  @Test
  void sourceRouteIsDropped() throws MailPathException {
    MailPath p = MailPath.parse("<@a.example,@b.example:user@c.example>", true);
    assertEquals("user@c.example", p.address());
  }

  @Test
  void parametersAreParsedUpperCasedAndOrdered() throws MailPathException {
    MailPath p = MailPath.parse("<a@b.example> SIZE=100 BODY=8BITMIME", true);
    assertEquals("a@b.example", p.address());
    assertEquals(List.of("SIZE", "BODY"), List.copyOf(p.parameters().keySet()));
    assertEquals("100", p.parameters().get("SIZE"));
    assertEquals("8BITMIME", p.parameters().get("BODY"));

    MailPath q = MailPath.parse("<a@b.example>   smtputf8  ret=HDRS envid=QQ+2Bx  x-Foo-1=a ", true);
    Map<String, String> expected = new LinkedHashMap<>();
    expected.put("SMTPUTF8", "");
    expected.put("RET", "HDRS");
    expected.put("ENVID", "QQ+2Bx");
    expected.put("X-FOO-1", "a");
    assertEquals(expected, q.parameters());
    assertEquals(List.copyOf(expected.keySet()), List.copyOf(q.parameters().keySet()));
  }

  @Test
  void bareAddressMayCarryParameters() throws MailPathException {
    MailPath p = MailPath.parse("a@b.example SIZE=5", true);
    assertEquals("a@b.example", p.address());
    assertEquals(Map.of("SIZE", "5"), p.parameters());
  }

  @Test
  void parameterValueMayContainAnyPrintableButEquals() throws MailPathException {
    MailPath p = MailPath.parse("<a@b.example> X=!\"#<>@[]~", true);
    assertEquals("!\"#<>@[]~", p.parameters().get("X"));
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "<a@b.example> SIZE=1 SIZE=2",
      "<a@b.example> size=1 SIZE=2",
      "<a@b.example> SMTPUTF8 smtputf8",
      "<a@b.example> SIZE=",
      "<a@b.example> =1",
      "<a@b.example> -SIZE=1",
      "<a@b.example> SI_ZE=1",
      "<a@b.example> SIZE=1=2",
      "<a@b.example> SIZE==1",
      "<a@b.example> X=é",
      "<a@b.example> É=1",
      "<a@b.example> a@b",
      "<a@b.example> <c@d.example>",
  })
  void rejectsBadParameters(String argument) {
    MailPathException e =
        assertThrows(MailPathException.class, () -> MailPath.parse(argument, true));
    assertEquals(MailPathException.Kind.BAD_PARAMETER, e.kind(), e.getMessage());
  }

  @Test
  void parametersAreUnmodifiable() throws MailPathException {
    MailPath p = MailPath.parse("<a@b.example> SIZE=1", true);
    assertThrows(UnsupportedOperationException.class, () -> p.parameters().put("X", "y"));
  }

  @Test
  void constructorCopiesParameters() {
    Map<String, String> params = new LinkedHashMap<>();
    params.put("SIZE", "1");
    MailPath p = new MailPath("a", "b.example", params);
    params.put("BODY", "7BIT");
    assertEquals(Map.of("SIZE", "1"), p.parameters());
  }

  @Test
  void requiresSmtpUtf8() throws MailPathException {
    assertFalse(MailPath.parse("<a@b.example>", true).requiresSmtpUtf8());
    assertTrue(MailPath.parse("<jöran@b.example>", true).requiresSmtpUtf8());
    assertTrue(MailPath.parse("<a@bücher.example>", true).requiresSmtpUtf8());
    assertTrue(MailPath.parse("<\"ö\"@b.example>", true).requiresSmtpUtf8());
  }

  @Test
  void localPartLimitCountsUtf8Octets() {
    // 32 two-octet characters = 64 octets is fine, 33 is not.
    assertEquals("é".repeat(32),
        assertDoesNotThrow(() -> MailPath.parse("<" + "é".repeat(32) + "@b.example>", true))
            .localPart());
    assertThrows(MailPathException.class,
        () -> MailPath.parse("<" + "é".repeat(33) + "@b.example>", true));
  }

  private static MailPath assertDoesNotThrow(ThrowingSupplier s) {
    try {
      return s.get();
    } catch (MailPathException e) {
      throw new AssertionError("unexpected " + e.kind() + ": " + e.getMessage(), e);
    }
  }

  private interface ThrowingSupplier {
    MailPath get() throws MailPathException;
  }

  /** A syntactically valid domain of exactly {@code length} octets. */
  private static String longDomain(int length) {
    StringBuilder sb = new StringBuilder();
    while (sb.length() < length) {
      int remaining = length - sb.length();
      if (sb.length() > 0) {
        sb.append('.');
        remaining--;
      }
      int label = Math.min(50, remaining);
      if (remaining - label == 1) {
        label--; // avoid leaving room for only a dot
      }
      sb.append("d".repeat(Math.max(1, label)));
    }
    if (sb.length() != length) {
      throw new IllegalStateException("helper bug: " + sb.length());
    }
    return sb.toString();
  }

  @org.junit.jupiter.api.Test
  void dequotedLocalPartRemovesQuotingOnly() throws Exception {
    assertEquals("a b", MailPath.parse("<\"a b\"@example.com>", false).dequotedLocalPart());
    assertEquals("x\"y", MailPath.parse("<\"x\\\"y\"@example.com>", false).dequotedLocalPart());
    assertEquals("user@remote", MailPath.parse("<\"user@remote\"@example.com>", false).dequotedLocalPart());
    assertEquals("plain", MailPath.parse("<plain@example.com>", false).dequotedLocalPart());
    assertEquals("\"user@remote\"@example.com", MailPath.parse("<\"user@remote\"@example.com>", false).address());
  }
}
