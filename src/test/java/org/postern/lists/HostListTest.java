package org.postern.lists;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.postern.net.IpAddresses;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class HostListTest {

  private static boolean ip(String spec, String address) {
    return HostList.of(spec).matches(address, null);
  }

  // --- * and the empty item ----------------------------------------------------------------------

  @Test
  void starMatchesEverythingIncludingLocal() {
    HostList l = HostList.of("*");
    assertTrue(l.matches("192.0.2.1", null));
    assertTrue(l.matches("2001:db8::1", "h.example"));
    assertTrue(l.matches("", null));
    assertTrue(l.matches(null, null));
  }

  @Test
  void emptyItemMatchesOnlyLocalSender() {
    HostList l = HostList.of(":");
    assertTrue(l.matches("", null));
    assertTrue(l.matches("", "whatever.example"));
    assertFalse(l.matches("127.0.0.1", null));
    assertFalse(l.matches("::1", "localhost"));
  }

  @Test
  void emptySpecMatchesNothing() {
    for (String spec : new String[] {"", "   ", "<;", "<; "}) {
      HostList l = HostList.of(spec);
      assertFalse(l.matches("", null), spec);
      assertFalse(l.matches("127.0.0.1", "localhost"), spec);
    }
  }

  @Test
  void emptyItemAmongOthers() {
    HostList l = HostList.of(" : 127.0.0.1");
    assertTrue(l.matches("", null));
    assertTrue(l.matches("127.0.0.1", null));
    assertFalse(l.matches("127.0.0.2", null));
    HostList l2 = HostList.of("127.0.0.1 : : 10.0.0.1");
    assertTrue(l2.matches("", null));
    assertTrue(l2.matches("10.0.0.1", null));
  }

  @Test
  void localSenderMatchesOnlyStarAndEmptyItem() {
    HostList l = HostList.of("127.0.0.1 : localhost : *.example : ^.* : 0.0.0.0/0");
    assertFalse(l.matches("", "localhost"));
    assertFalse(l.matches("", "a.example"));
  }

  // --- IP addresses --------------------------------------------------------------------------------

  static Stream<Arguments> addressCases() {
    return Stream.of(
        Arguments.of("192.0.2.1", "192.0.2.1", true),
        Arguments.of("192.0.2.1", "192.0.2.2", false),
        Arguments.of("192.000.002.001", "192.0.2.1", true),
        Arguments.of("<; ::1", "::1", true),
        Arguments.of("<; ::1", "0:0:0:0:0:0:0:1", true),
        Arguments.of("<; 0:0:0:0:0:0:0:1", "::1", true),
        Arguments.of("::::1", "::1", true), // colons doubled in a colon-separated list
        Arguments.of("<; 2001:DB8::1", "2001:db8:0:0:0:0:0:1", true),
        Arguments.of("<; 2001:db8::1:0:0:1", "2001:db8:0:0:1:0:0:1", true),
        Arguments.of("<; 2001:db8::1", "2001:db8::2", false),
        Arguments.of("<; ::1", "127.0.0.1", false),
        Arguments.of("127.0.0.1", "::1", false),
        // IPv4-mapped IPv6 is the IPv4 address, on either side
        Arguments.of("127.0.0.1", "::ffff:127.0.0.1", true),
        Arguments.of("127.0.0.1", "::FFFF:7f00:1", true),
        Arguments.of("<; ::ffff:127.0.0.1", "127.0.0.1", true),
        Arguments.of("<; ::ffff:10.0.0.0/104", "10.200.3.4", true),
        Arguments.of("<; ::ffff:10.0.0.0/104", "11.0.0.1", false),
        Arguments.of("10.0.0.0/8", "::ffff:10.9.9.9", true),
        // brackets and zone ids on the subject are ignored
        Arguments.of("<; ::1", "[::1]", true),
        Arguments.of("<; fe80::1", "fe80::1%eth0", true),
        Arguments.of("<; fe80::1", "fe80:0:0:0:0:0:0:1%2", true),
        // CIDR, IPv4
        Arguments.of("192.0.2.0/24", "192.0.2.0", true),
        Arguments.of("192.0.2.0/24", "192.0.2.255", true),
        Arguments.of("192.0.2.0/24", "192.0.3.0", false),
        Arguments.of("192.0.2.0/24", "192.0.1.255", false),
        Arguments.of("192.0.2.77/24", "192.0.2.1", true),
        Arguments.of("192.0.2.128/25", "192.0.2.127", false),
        Arguments.of("192.0.2.128/25", "192.0.2.128", true),
        Arguments.of("10.0.0.0/7", "11.255.255.255", true),
        Arguments.of("10.0.0.0/7", "12.0.0.0", false),
        Arguments.of("0.0.0.0/0", "203.0.113.9", true),
        Arguments.of("0.0.0.0/0", "255.255.255.255", true),
        Arguments.of("0.0.0.0/0", "2001:db8::1", false),
        Arguments.of("192.0.2.1/32", "192.0.2.1", true),
        Arguments.of("192.0.2.1/32", "192.0.2.0", false),
        Arguments.of("192.0.2.1/31", "192.0.2.0", true),
        // CIDR, IPv6
        Arguments.of("<; 2001:db8::/32", "2001:db8::", true),
        Arguments.of("<; 2001:db8::/32", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true),
        Arguments.of("<; 2001:db8::/32", "2001:db9::", false),
        Arguments.of("<; 2001:db8::/32", "2001:db7:ffff::1", false),
        Arguments.of("<; 2001:db8::/33", "2001:db8:8000::", false),
        Arguments.of("<; 2001:db8::/33", "2001:db8:7fff::", true),
        Arguments.of("<; ::/0", "2001:db8::1", true),
        Arguments.of("<; ::/0", "::", true),
        Arguments.of("<; ::/0", "192.0.2.1", false),
        Arguments.of("<; 2001:db8::1/128", "2001:db8::1", true),
        Arguments.of("<; 2001:db8::1/128", "2001:db8::0", false),
        Arguments.of("<; 2001:db8::/127", "2001:db8::1", true),
        Arguments.of("<; 1:2:3:4:5:6:7::/112", "1:2:3:4:5:6:7:ffff", true),
        Arguments.of("<; ::ffff:0:0/96", "198.51.100.7", true),
        Arguments.of("<; 64:ff9b::192.0.2.33", "64:ff9b::c000:221", true),
        // not an address: only * and name items can match
        Arguments.of("0.0.0.0/0", "not-an-ip", false),
        Arguments.of("<; ::/0", "::1::", false));
  }

  @ParameterizedTest(name = "[{index}] {0} vs {1} -> {2}")
  @MethodSource("addressCases")
  void matchesAddresses(String spec, String address, boolean expected) {
    assertEquals(expected, ip(spec, address));
  }

  // --- negation --------------------------------------------------------------------------------

  @Test
  void firstMatchWinsAndNegationExcludes() {
    HostList l = HostList.of("!192.0.2.1 : 192.0.2.0/24");
    assertFalse(l.matches("192.0.2.1", null));
    assertTrue(l.matches("192.0.2.2", null));
    assertFalse(l.matches("198.51.100.1", null));
  }

  @Test
  void orderMatters() {
    HostList l = HostList.of("192.0.2.0/24 : !192.0.2.1");
    assertTrue(l.matches("192.0.2.1", null), "the CIDR item comes first and wins");
  }

  @Test
  void listEndingInNegatedItemMatchesEverythingElse() {
    // Exim: when the scan falls off the end after a negative item, the answer is yes.
    HostList l = HostList.of("!192.0.2.1");
    assertFalse(l.matches("192.0.2.1", null));
    assertTrue(l.matches("192.0.2.2", null));
    assertTrue(l.matches("", null));
    HostList l2 = HostList.of("10.0.0.0/8 : ! 192.0.2.0/24");
    assertTrue(l2.matches("10.1.1.1", null));
    assertFalse(l2.matches("192.0.2.5", null));
    assertTrue(l2.matches("198.51.100.1", null));
  }

  @Test
  void negatedStarAndEmptyItem() {
    HostList l = HostList.of("! : *");
    assertFalse(l.matches("", null));
    assertTrue(l.matches("192.0.2.1", null));
    assertFalse(HostList.of("!* : 192.0.2.1").matches("192.0.2.1", null));
  }

  // --- named lists -----------------------------------------------------------------------------

  @Test
  void namedLists() {
    HostList trusted = HostList.of("192.0.2.0/24 : !198.51.100.1 : 198.51.100.0/24");
    HostList blocked = HostList.of("203.0.113.66");
    Map<String, HostList> names = Map.of("trusted", trusted, "blocked", blocked);
    HostList l = HostList.parse("!+blocked : +trusted : 10.0.0.1", names::get);
    assertTrue(l.matches("192.0.2.9", null));
    assertTrue(l.matches("198.51.100.2", null));
    assertFalse(l.matches("198.51.100.1", null), "sublist said no, then 10.0.0.1 does not match");
    assertTrue(l.matches("10.0.0.1", null));
    assertFalse(l.matches("203.0.113.66", null));
    assertFalse(l.matches("203.0.113.67", null));
    assertEquals("!+blocked : +trusted : 10.0.0.1", l.spec());
  }

  @Test
  void negatedNamedListWithImplicitStar() {
    Map<String, HostList> names = Map.of("bad", HostList.of("192.0.2.0/24"));
    HostList l = HostList.parse("!+bad", names::get);
    assertFalse(l.matches("192.0.2.1", null));
    assertTrue(l.matches("10.0.0.1", null));
  }

  @Test
  void namedListSeesLocalSender() {
    Map<String, HostList> names = Map.of("local", HostList.of(":"));
    HostList l = HostList.parse("+local : 127.0.0.1", names::get);
    assertTrue(l.matches("", null));
    assertTrue(l.matches("127.0.0.1", null));
  }

  @Test
  void unknownNamedListIsRejected() {
    Function<String, HostList> none = n -> null;
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> HostList.parse("127.0.0.1 : +nosuch", none));
    assertTrue(e.getMessage().contains("+nosuch"), e.getMessage());
    assertTrue(e.getMessage().contains("unknown named host list"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> HostList.of("+trusted"));
  }

  // --- names, wildcards, regexes ----------------------------------------------------------------

  @Test
  void hostNames() {
    HostList l = HostList.of("mx.example.com");
    assertTrue(l.matches("192.0.2.1", "mx.example.com"));
    assertTrue(l.matches("192.0.2.1", "MX.Example.COM"));
    assertTrue(l.matches("192.0.2.1", "mx.example.com."));
    assertFalse(l.matches("192.0.2.1", "mx2.example.com"));
    assertFalse(l.matches("192.0.2.1", "a.mx.example.com"));
    assertFalse(l.matches("192.0.2.1", null), "no DNS: unknown name never matches");
    assertFalse(l.matches("192.0.2.1", ""));
    assertTrue(HostList.of("MX.EXAMPLE.COM.").matches("192.0.2.1", "mx.example.com"));
  }

  @Test
  void unknownHostNameJustSkipsNameItems() {
    HostList l = HostList.of("!*.dialup.example : 192.0.2.0/24");
    assertTrue(l.matches("192.0.2.1", null));
    assertFalse(l.matches("192.0.2.1", "x.dialup.example"));
  }

  @Test
  void wildcards() {
    HostList l = HostList.of("*.example.com");
    assertTrue(l.matches("192.0.2.1", "a.example.com"));
    assertTrue(l.matches("192.0.2.1", "A.B.EXAMPLE.COM"));
    assertFalse(l.matches("192.0.2.1", "example.com"));
    assertFalse(l.matches("192.0.2.1", "badexample.com"));
    assertFalse(l.matches("192.0.2.1", null));
    HostList tail = HostList.of("*example.com");
    assertTrue(tail.matches("192.0.2.1", "example.com"));
    assertTrue(tail.matches("192.0.2.1", "badexample.com"));
  }

  @Test
  void regexes() {
    HostList l = HostList.of("^mail\\d+\\.example\\.com$");
    assertTrue(l.matches("192.0.2.1", "mail12.example.com"));
    assertTrue(l.matches("192.0.2.1", "MAIL1.EXAMPLE.COM"));
    assertFalse(l.matches("192.0.2.1", "mail.example.com"));
    assertFalse(l.matches("192.0.2.1", "mail1.example.com.evil"));
    assertFalse(l.matches("192.0.2.1", null));
    HostList unanchored = HostList.of("^mail\\d");
    assertTrue(unanchored.matches("192.0.2.1", "mail1.anything.example"));
    // colons inside a regex must be doubled in a colon list, or use another separator
    HostList colons = HostList.of("<; ^[a-z]+::x");
    assertTrue(colons.matches("192.0.2.1", "ab::x"));
  }

  // --- errors ----------------------------------------------------------------------------------

  static Stream<Arguments> badSpecs() {
    return Stream.of(
        Arguments.of("10.0.0.0/33", "out of range 0-32"),
        Arguments.of("<; 2001:db8::/129", "out of range 0-128"),
        Arguments.of("10.0.0.0/", "invalid prefix length"),
        Arguments.of("10.0.0.0/x", "invalid prefix length"),
        Arguments.of("10.0.0.0/-1", "invalid prefix length"),
        Arguments.of("10.0.0.0/24/1", "invalid prefix length"),
        Arguments.of("1.2.3", "malformed IPv4"),
        Arguments.of("10.1/16", "malformed IPv4"),
        Arguments.of("256.0.0.1", "malformed IPv4"),
        Arguments.of("1.2.3.4.5", "malformed IPv4"),
        Arguments.of("<; 1::2::3", "malformed IPv6"),
        Arguments.of("<; 1:2:3:4:5:6:7:8:9", "malformed IPv6"),
        Arguments.of("<; 12345::1", "malformed IPv6"),
        Arguments.of("<; fe80::1%eth0", "malformed IPv6"),
        Arguments.of("<; [::1]", "malformed IPv6"),
        Arguments.of("host.example/24", "needs an IP address"),
        Arguments.of("@", "only '@[]'"),
        Arguments.of("/etc/relay-hosts", "file names"),
        Arguments.of("net24-lsearch;/etc/x", "lookups"),
        Arguments.of("^(unclosed", "regular expression"),
        Arguments.of("bad host.example", "U+0020"),
        Arguments.of("a*b.example", "U+002A"),
        Arguments.of("*.exa mple", "wildcard"),
        Arguments.of("+", "missing list name"),
        Arguments.of("+include_unknown", "not supported"),
        Arguments.of("!+ignore_unknown", "not supported"));
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @MethodSource("badSpecs")
  void rejectsBadItems(String spec, String reason) {
    // Put a valid item first so that the message must point at the right one.
    String full = spec.startsWith("<;")
        ? "<; 127.0.0.1 ; " + spec.substring(2)
        : "127.0.0.1 : " + spec;
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> HostList.of(full));
    assertTrue(e.getMessage().contains(reason), e.getMessage());
    assertTrue(e.getMessage().contains("item 2"), e.getMessage());
  }

  @Test
  void errorMessageQuotesTheItem() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> HostList.of("10.0.0.0/33"));
    assertEquals(
        "invalid host list item 1 \"10.0.0.0/33\": prefix length 33 out of range 0-32",
        e.getMessage());
  }

  // --- list syntax -----------------------------------------------------------------------------

  static Stream<Arguments> splitCases() {
    return Stream.of(
        Arguments.of("", List.of()),
        Arguments.of("  ", List.of()),
        Arguments.of("a", List.of("a")),
        Arguments.of(" a : b ", List.of("a", "b")),
        Arguments.of("a:b", List.of("a", "b")),
        Arguments.of("a::b : c", List.of("a:b", "c")),
        Arguments.of("::::1", List.of("::1")),
        Arguments.of(":", List.of("")),
        Arguments.of(" : ", List.of("")),
        Arguments.of(": a", List.of("", "a")),
        Arguments.of("a :", List.of("a")),
        Arguments.of("a : : b", List.of("a", "", "b")),
        Arguments.of("a :  :", List.of("a", "")),
        Arguments.of("<; a ; b", List.of("a", "b")),
        Arguments.of("  <; ::1 ; 127.0.0.1", List.of("::1", "127.0.0.1")),
        Arguments.of("<, a,,b , c", List.of("a,b", "c")),
        Arguments.of("<\n a \n b:c \n", List.of("a", "b:c")),
        Arguments.of("<\n a \n\n b", List.of("a", "", "b")),
        Arguments.of("<", List.of("<")),
        Arguments.of("< a", List.of("< a")));
  }

  @ParameterizedTest(name = "[{index}] \"{0}\"")
  @MethodSource("splitCases")
  void splitsLikeExim(String spec, List<String> expected) {
    assertEquals(expected, HostList.ListSyntax.split(spec));
  }

  static Stream<List<String>> joinCases() {
    return Stream.of(
        List.of(),
        List.of(""),
        List.of("", ""),
        List.of("a"),
        List.of("a", "b"),
        List.of("", "a"),
        List.of("a", ""),
        List.of("a", "", "b"),
        List.of("::1", "127.0.0.1"),
        List.of("::1", "", "a;b"),
        List.of(":", ";", ",", "|", ""),
        List.of("a:", ":b", "x;,|"),
        List.of("<x", "y"),
        List.of("^a+$"));
  }

  @ParameterizedTest
  @MethodSource("joinCases")
  void joinRoundTrips(List<String> items) {
    String joined = HostList.ListSyntax.join(items);
    assertEquals(items, HostList.ListSyntax.split(joined), joined);
  }

  @Test
  void listFormTakesItemsLiterally() {
    HostList l = HostList.parse(List.of(" ::1 ", "127.0.0.1", "2001:db8::/32", ""), null);
    assertTrue(l.matches("::1", null));
    assertTrue(l.matches("127.0.0.1", null));
    assertTrue(l.matches("2001:db8:1::5", null));
    assertTrue(l.matches("", null));
    assertFalse(l.matches("10.0.0.1", null));
    assertEquals("<; ::1 ; 127.0.0.1 ; 2001:db8::/32 ;  ;", l.spec());
    HostList reparsed = HostList.of(l.spec());
    for (String a : Arrays.asList("::1", "127.0.0.1", "2001:db8:1::5", "", "10.0.0.1")) {
      assertEquals(l.matches(a, null), reparsed.matches(a, null), a);
    }
  }

  @Test
  void listFormErrorsNameTheItem() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> HostList.parse(List.of("127.0.0.1", "10.0.0.0/33"), null));
    assertTrue(e.getMessage().contains("item 2 \"10.0.0.0/33\""), e.getMessage());
  }

  @Test
  void specIsKeptVerbatim() {
    String spec = "  !192.0.2.1 : 192.0.2.0/24 ";
    assertEquals(spec, HostList.of(spec).spec());
    assertEquals(spec, HostList.of(spec).toString());
  }

  // --- address parser --------------------------------------------------------------------------

  @Test
  void ipParserRejectsNonLiteralsWithoutDns() {
    for (String s : new String[] {"localhost", "127.1", "0x7f.0.0.1", "1.2.3.4 ", "", "::g",
        ":1::", "1::2:", "1:2:3:4:5:6:7:8::", "::1.2.3", "1.2.3.4::", "١.2.3.4", "256.1.1.1", "1.2.3.4.",
        ".1.2.3", "1..2.3", "0001.2.3.4", "1.2.3.-4", "1.2.3.4.5", "1.2.3.4x"}) {
      assertNull(IpAddresses.parseIp(s), s);
    }
    assertNotNull(IpAddresses.parseIp("::"));
    assertNotNull(IpAddresses.parseIp("1:2:3:4:5:6:7::"));
    assertNotNull(IpAddresses.parseIp("::2:3:4:5:6:7:8"));
    assertNotNull(IpAddresses.parseIp("1:2:3:4:5:6:1.2.3.4"));
    assertEquals(4, IpAddresses.parseIp("::ffff:1.2.3.4").length);
    assertEquals(16, IpAddresses.parseIp("::1.2.3.4").length);
    org.junit.jupiter.api.Assertions.assertArrayEquals(new byte[] {10, 0, 0, (byte) 255},
        IpAddresses.parseIp("010.0.0.255"));
  }

  @org.junit.jupiter.api.Test
  void atBracketsMatchesThisMachinesOwnAddresses() {
    HostList local = HostList.of("@[]");
    org.junit.jupiter.api.Assertions.assertTrue(local.matches("127.0.0.1", null));
    org.junit.jupiter.api.Assertions.assertTrue(local.matches("::ffff:127.0.0.1", null));
    org.junit.jupiter.api.Assertions.assertFalse(local.matches("192.0.2.1", null));
    org.junit.jupiter.api.Assertions.assertFalse(local.matches("", null));
  }
}
