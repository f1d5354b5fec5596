package org.postern.lists;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class DomainListTest {

  private static DomainList of(String spec) {
    return DomainList.parse(spec, "mx.example.org", null);
  }

  static Stream<Arguments> cases() {
    return Stream.of(
        // literal, case-insensitive
        Arguments.of("example.com", "example.com", true),
        Arguments.of("example.com", "EXAMPLE.Com", true),
        Arguments.of("Example.COM", "example.com", true),
        Arguments.of("example.com", "sub.example.com", false),
        Arguments.of("example.com", "example.co", false),
        Arguments.of("example.com", "", false),
        Arguments.of("bücher.example", "BÜCHER.example", true),
        // U-label and A-label forms of one domain are the same domain (RFC 6531 3.2), both ways
        Arguments.of("bücher.example", "xn--bcher-kva.example", true),
        Arguments.of("xn--bcher-kva.example", "bücher.example", true),
        Arguments.of("XN--BCHER-KVA.example", "BÜCHER.example", true),
        Arguments.of("*.bücher.example", "www.xn--bcher-kva.example", true),
        Arguments.of("*.xn--bcher-kva.example", "www.bücher.example", true),
        Arguments.of("!xn--bcher-kva.example : *", "bücher.example", false),
        Arguments.of("!bücher.example : *", "xn--bcher-kva.example", false),
        Arguments.of("xn--bcher-kva.example", "bucher.example", false),
        // NFC: a decomposed "u" + U+0308 is the precomposed one
        Arguments.of("bücher.example", "bu\u0308cher.example", true),
        // wildcards are plain suffix matches
        Arguments.of("*.example.com", "a.example.com", true),
        Arguments.of("*.example.com", "A.B.Example.COM", true),
        Arguments.of("*.example.com", "example.com", false),
        Arguments.of("*.example.com", "badexample.com", false),
        Arguments.of("*example.com", "example.com", true),
        Arguments.of("*example.com", "badexample.com", true),
        Arguments.of("*", "anything.example", true),
        Arguments.of("*", "", true),
        // regexes: find() semantics, case-insensitive
        Arguments.of("^mail\\d+\\.example\\.com$", "MAIL7.example.com", true),
        Arguments.of("^mail\\d+\\.example\\.com$", "mail7.example.com.evil", false),
        Arguments.of("^mail\\d", "mail7.example.com.evil", true),
        Arguments.of("^.*\\.example\\.(com|net)$", "a.example.net", true),
        Arguments.of("^.*\\.example\\.(com|net)$", "a.example.org", false),
        // @ = primary host name
        Arguments.of("@", "mx.example.org", true),
        Arguments.of("@", "MX.EXAMPLE.ORG", true),
        Arguments.of("@", "example.org", false),
        // empty item = empty domain
        Arguments.of(":", "", true),
        Arguments.of(":", "example.com", false),
        Arguments.of("", "", false),
        Arguments.of("", "example.com", false),
        // negation, first match wins, trailing negation implies *
        Arguments.of("!a.example.com : *.example.com", "a.example.com", false),
        Arguments.of("!a.example.com : *.example.com", "b.example.com", true),
        Arguments.of("!a.example.com : *.example.com", "example.net", false),
        Arguments.of("*.example.com : !a.example.com", "a.example.com", true),
        Arguments.of("!a.example.com", "a.example.com", false),
        Arguments.of("!a.example.com", "b.example.com", true),
        Arguments.of("! ^spam", "spam.example", false),
        Arguments.of("! ^spam", "ham.example", true),
        // separators
        Arguments.of("<; a.example ; b.example", "b.example", true),
        Arguments.of("<, a.example , b.example", "a.example", true),
        Arguments.of("a.example:b.example", "b.example", true),
        Arguments.of("<; [IPv6:2001:db8::1]", "[ipv6:2001:DB8::1]", true));
  }

  @ParameterizedTest(name = "[{index}] {0} vs {1} -> {2}")
  @MethodSource("cases")
  void matches(String spec, String domain, boolean expected) {
    assertEquals(expected, of(spec).matches(domain));
  }

  @Test
  void namedLists() {
    DomainList local = of("@ : example.com");
    DomainList blocked = of("bad.example.com");
    Map<String, DomainList> names = Map.of("local_domains", local, "blocked", blocked);
    DomainList l = DomainList.parse("!+blocked : +local_domains : *.example.com", null, names::get);
    assertTrue(l.matches("mx.example.org"));
    assertTrue(l.matches("EXAMPLE.com"));
    assertTrue(l.matches("good.example.com"));
    assertFalse(l.matches("bad.example.com"));
    assertFalse(l.matches("example.net"));
  }

  @Test
  void namedListThatSaysNoLetsScanContinue() {
    Map<String, DomainList> names = Map.of("odd", of("!x.example : x.example"));
    DomainList l = DomainList.parse("+odd : x.example", null, names::get);
    assertTrue(l.matches("x.example"));
  }

  @Test
  void localAddressLiterals() throws UnknownHostException {
    List<InetAddress> addrs = List.of(InetAddress.getByName("192.0.2.1"),
        InetAddress.getByName("2001:db8::1"), InetAddress.getByName("127.0.0.1"));
    DomainList l = DomainList.parse("@[]", null, null, () -> addrs);
    assertTrue(l.matches("[192.0.2.1]"));
    assertTrue(l.matches("[127.0.0.1]"));
    assertTrue(l.matches("[IPv6:2001:db8::1]"));
    assertTrue(l.matches("[ipv6:2001:DB8:0:0:0:0:0:1]"));
    assertTrue(l.matches("[IPv6:::ffff:192.0.2.1]"));
    assertFalse(l.matches("[192.0.2.2]"));
    assertFalse(l.matches("[2001:db8::1]"), "IPv6 literal needs the tag");
    assertFalse(l.matches("192.0.2.1"), "not a literal");
    assertFalse(l.matches("[192.0.2.1"));
    assertFalse(l.matches("[]"));
    assertFalse(l.matches("[IPv6:nonsense]"));
    DomainList negated = DomainList.parse("!@[] : *", null, null, () -> addrs);
    assertFalse(negated.matches("[192.0.2.1]"));
    assertTrue(negated.matches("[198.51.100.1]"));
  }

  @Test
  void localAddressesAreReadOnceAndOnlyWhenNeeded() {
    AtomicInteger calls = new AtomicInteger();
    Supplier<Collection<InetAddress>> counting = () -> {
      calls.incrementAndGet();
      return List.of();
    };
    DomainList.parse("a.example : *.b.example", null, null, counting);
    assertEquals(0, calls.get());
    DomainList l = DomainList.parse("@[] : !@[] : x.example", null, null, counting);
    assertEquals(1, calls.get());
    l.matches("[127.0.0.1]");
    l.matches("x.example");
    assertEquals(1, calls.get());
  }

  @Test
  void realInterfacesIncludeLoopback() {
    // Every host running the tests has a loopback interface; this exercises NetworkInterface.
    DomainList l = DomainList.parse("@[]", null, null);
    assertTrue(l.matches("[127.0.0.1]"));
    assertFalse(l.matches("[192.0.2.255]"));
  }

  @Test
  void listForm() {
    DomainList l = DomainList.parse(List.of("@", " *.example.com ", "[IPv6:::1]", "!x.example"),
        "Host.Example", null);
    assertTrue(l.matches("host.example"));
    assertTrue(l.matches("a.example.com"));
    assertTrue(l.matches("[ipv6:::1]"));
    assertFalse(l.matches("x.example"));
    assertTrue(l.matches("other.example"), "last item negated");
    assertEquals("<; @ ; *.example.com ; [IPv6:::1] ; !x.example", l.spec());
  }

  @Test
  void specIsKeptVerbatim() {
    String spec = " @ : example.com ";
    assertEquals(spec, of(spec).spec());
    assertEquals(spec, of(spec).toString());
  }

  static Stream<Arguments> badSpecs() {
    return Stream.of(
        Arguments.of("+nosuch", "unknown named domain list \"nosuch\""),
        Arguments.of("!+nosuch", "unknown named domain list"),
        Arguments.of("+", "missing list name"),
        Arguments.of("^(", "regular expression"),
        Arguments.of("@mx_any", "'@mx_...' items need DNS"),
        Arguments.of("@mx_primary/ignore=127.0.0.1", "need DNS"),
        Arguments.of("/etc/local-domains", "file names"),
        Arguments.of("lsearch;/etc/domains", "lookups"),
        Arguments.of("partial-dbm;/etc/domains", "lookups"),
        Arguments.of("a.example b.example", "U+0020"),
        Arguments.of("*.a b", "U+0020"));
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @MethodSource("badSpecs")
  void rejectsBadItems(String spec, String reason) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> DomainList.parse("ok.example : " + spec, "h.example", n -> null));
    assertTrue(e.getMessage().contains(reason), e.getMessage());
    assertTrue(e.getMessage().startsWith("invalid domain list item 2 \""), e.getMessage());
  }

  @Test
  void atWithoutPrimaryHostnameIsRejected() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> DomainList.parse("@", null, null));
    assertTrue(e.getMessage().contains("primary host name"), e.getMessage());
  }

  @Test
  void nullDomainIsAProgrammingError() {
    assertThrows(NullPointerException.class, () -> of("*").matches(null));
  }
}
