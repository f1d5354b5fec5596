package org.postern.lists;

import org.postern.net.InternationalDomain;
import org.postern.net.IpAddresses;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * An Exim-style domain list, as used by {@code local_domains}, {@code relay_to_domains} and the
 * {@code domains =} ACL condition. Instances are immutable and thread-safe.
 *
 * <p>The list syntax is the same as for {@link HostList}: colon-separated items with white space
 * ignored around them, {@code ::} for a literal colon, {@code <x} at the start to use another
 * separator, or one item per element with {@link #parse(List, String, Function)}. Items are tried
 * from left to right and the first match decides; when none matches the answer is "no", unless
 * the last item was negated, in which case it is "yes" (so {@code !example.com} means every
 * domain but that one). All comparisons are case-insensitive, and a domain's U-label and A-label
 * forms ({@code bücher.example}, {@code xn--bcher-kva.example}) are the same domain (RFC 6531 3.2):
 * domains and items are compared in NFC U-label form, which is also what a {@code ^regex} sees.
 *
 * <p>Item kinds:
 *
 * <ul>
 *   <li>a domain, compared literally ({@code example.com} does not match
 *       {@code sub.example.com});
 *   <li>{@code *suffix} &mdash; a plain suffix match, as in Exim: {@code *.example.com} matches
 *       the subdomains of {@code example.com} but not itself, {@code *example.com} matches both
 *       and also {@code badexample.com}; {@code *} alone matches every domain;
 *   <li>{@code ^regex} &mdash; searched in the domain ({@link java.util.regex.Matcher#find()});
 *       anchored at the start by its {@code ^}, at the end only if it ends with {@code $};
 *   <li>{@code @} &mdash; the primary host name given to {@code parse};
 *   <li>{@code @[]} &mdash; an address literal ({@code [192.0.2.1]}, {@code [IPv6:2001:db8::1]})
 *       naming one of this machine's IP addresses, which are read from the network interfaces
 *       once, when the list is parsed;
 *   <li>{@code +name} &mdash; a named domain list, resolved when this list is parsed;
 *   <li>{@code /path} &mdash; the items in that file, one per line ({@link ListFiles});
 *   <li>an empty item &mdash; matches only the empty domain;
 *   <li>any of the above preceded by {@code !} &mdash; a match means "not in the list".
 * </ul>
 *
 * <p>Not supported, and rejected at parse time with an explanation: {@code @mx_any} and the
 * other MX items (they need DNS), lookups ({@code lsearch;/file}).
 */
public final class DomainList {

  private final String spec;
  private final List<ListItem<String>> items;

  private DomainList(String spec, List<ListItem<String>> items) {
    this.spec = spec;
    this.items = List.copyOf(items);
  }

  /**
   * Parses a colon-separated (or {@code <x}-separated) domain list.
   *
   * @param spec the list, e.g. {@code "@ : example.com : *.example.net : !+blocked"}
   * @param primaryHostname what {@code @} stands for; may be {@code null} if {@code @} is unused
   * @param namedLists resolves {@code +name} items to already-built lists, returning
   *     {@code null} for an unknown name; may be {@code null} when no named lists exist
   * @return the parsed list
   * @throws IllegalArgumentException naming the offending item and the reason
   */
  public static DomainList parse(
      String spec, String primaryHostname, Function<String, DomainList> namedLists) {
    return parse(spec, primaryHostname, namedLists, DomainList::interfaceAddresses, null);
  }

  /** As {@link #parse(String, String, Function)}, allowing file items read through {@code files}. */
  public static DomainList parse(
      String spec, String primaryHostname, Function<String, DomainList> namedLists, ListFiles files) {
    return parse(spec, primaryHostname, namedLists, DomainList::interfaceAddresses, files);
  }

  /**
   * Parses a domain list given one item per element, e.g. from a YAML sequence. Elements are
   * trimmed but otherwise taken literally (no separator splitting, no colon doubling).
   *
   * @param items the items
   * @param primaryHostname what {@code @} stands for; may be {@code null} if {@code @} is unused
   * @param namedLists resolves {@code +name} items; see {@link #parse(String, String, Function)}
   * @return the parsed list
   * @throws IllegalArgumentException naming the offending item and the reason
   */
  public static DomainList parse(
      List<String> items, String primaryHostname, Function<String, DomainList> namedLists) {
    return parse(items, primaryHostname, namedLists, DomainList::interfaceAddresses, null);
  }

  /** As {@link #parse(List, String, Function)}, allowing file items read through {@code files}. */
  public static DomainList parse(
      List<String> items, String primaryHostname, Function<String, DomainList> namedLists, ListFiles files) {
    return parse(items, primaryHostname, namedLists, DomainList::interfaceAddresses, files);
  }

  /** As the public method, with the machine's addresses supplied (for tests). */
  static DomainList parse(String spec, String primaryHostname,
      Function<String, DomainList> namedLists, Supplier<Collection<InetAddress>> localAddresses) {
    return parse(spec, primaryHostname, namedLists, localAddresses, null);
  }

  private static DomainList parse(String spec, String primaryHostname,
      Function<String, DomainList> namedLists, Supplier<Collection<InetAddress>> localAddresses, ListFiles files) {
    Objects.requireNonNull(spec, "spec");
    return new DomainList(spec, parseItems(ListFiles.expand(HostList.ListSyntax.split(spec), "domain", files),
        primaryHostname, namedLists, localAddresses));
  }

  /** As the public method, with the machine's addresses supplied (for tests). */
  static DomainList parse(List<String> items, String primaryHostname,
      Function<String, DomainList> namedLists, Supplier<Collection<InetAddress>> localAddresses) {
    return parse(items, primaryHostname, namedLists, localAddresses, null);
  }

  private static DomainList parse(List<String> items, String primaryHostname,
      Function<String, DomainList> namedLists, Supplier<Collection<InetAddress>> localAddresses, ListFiles files) {
    List<String> trimmed = HostList.ListSyntax.trimAll(items);
    return new DomainList(HostList.ListSyntax.join(trimmed),
        parseItems(ListFiles.expand(trimmed, "domain", files), primaryHostname, namedLists, localAddresses));
  }

  /**
   * Tells whether a domain is in this list, ignoring case.
   *
   * @param domain the domain, e.g. from {@code MailPath.domain()}; an address literal keeps its
   *     brackets ({@code [192.0.2.1]})
   * @return {@code true} if the domain is in the list
   */
  public boolean matches(String domain) {
    Objects.requireNonNull(domain, "domain");
    return ListItem.matches(items, InternationalDomain.comparable(domain));
  }

  /**
   * Returns the list in Exim syntax: the string given to {@code parse}, or for a list built from
   * items, an equivalent string that parses back to the same items.
   *
   * @return the specification
   */
  public String spec() {
    return spec;
  }

  /** Returns {@link #spec()}, for log messages. */
  @Override
  public String toString() {
    return spec;
  }

  // ---------------------------------------------------------------------------------------------

  private static List<ListItem<String>> parseItems(List<ListFiles.Item> texts, String primaryHostname,
      Function<String, DomainList> named, Supplier<Collection<InetAddress>> localAddresses) {
    List<ListItem<String>> items = new ArrayList<>(texts.size());
    // Read lazily, and at most once per list, so lists without @[] never touch the interfaces.
    Set<String> local = null;
    for (int k = 0; k < texts.size(); k++) {
      String raw = texts.get(k).text();
      String text = raw;
      boolean negated = false;
      if (text.startsWith("!")) {
        negated = true;
        text = HostList.ListSyntax.stripLeadingSpace(text.substring(1));
      }
      try {
        Predicate<String> test;
        if (text.equals("@[]")) {
          if (local == null) {
            local = addressKeys(localAddresses.get());
          }
          Set<String> addresses = local;
          test = d -> {
            String key = literalKey(d);
            return key != null && addresses.contains(key);
          };
        } else {
          test = parseTest(text, primaryHostname, named);
        }
        items.add(new ListItem<>(negated, test));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "invalid domain list " + texts.get(k).origin() + " \"" + raw + "\": " + e.getMessage(), e);
      }
    }
    return items;
  }

  private static Predicate<String> parseTest(
      String text, String primaryHostname, Function<String, DomainList> named) {
    if (text.startsWith("+")) {
      String name = text.substring(1);
      if (name.isEmpty()) {
        throw new IllegalArgumentException("missing list name after '+'");
      }
      DomainList list = named == null ? null : named.apply(name);
      if (list == null) {
        throw new IllegalArgumentException("unknown named domain list \"" + name + "\"");
      }
      return list::matches;
    }
    if (text.startsWith("^")) {
      Pattern p = HostList.compileRegex(text);
      return d -> p.matcher(d).find();
    }
    if (text.startsWith("*")) {
      String suffix = suffixKey(text.substring(1));
      checkLiteral(suffix);
      return d -> d.endsWith(suffix);
    }
    if (text.equals("@")) {
      if (primaryHostname == null || primaryHostname.isEmpty()) {
        throw new IllegalArgumentException("'@' used but no primary host name is configured");
      }
      String host = InternationalDomain.comparable(primaryHostname);
      return host::equals;
    }
    if (text.startsWith("@")) {
      throw new IllegalArgumentException(
          "only '@' and '@[]' are supported ('@mx_...' items need DNS)");
    }
    if (text.indexOf(';') >= 0) {
      throw new IllegalArgumentException("lookups are not supported in domain lists");
    }
    checkLiteral(text);
    String literal = InternationalDomain.comparable(text);
    return literal::equals;
  }

  /** A {@code *suffix} item in the U-label form {@link #matches} compares, its leading dot kept. */
  private static String suffixKey(String suffix) {
    if (suffix.startsWith(".") && suffix.length() > 1) {
      return "." + InternationalDomain.comparable(suffix.substring(1));
    }
    return InternationalDomain.comparable(suffix);
  }

  /** A domain never contains these; finding one means a typo such as a missing separator. */
  private static void checkLiteral(String text) {
    for (int k = 0; k < text.length(); k++) {
      char c = text.charAt(k);
      if (c <= ' ' || c == 0x7f) {
        throw new IllegalArgumentException(
            String.format("character U+%04X is not valid in a domain", (int) c));
      }
    }
  }

  /**
   * Comparison key for an address literal domain ({@code [1.2.3.4]}, {@code [IPv6:...]}), or
   * null if the domain is not one; IPv6 requires the tag, as in RFC 5321.
   */
  private static String literalKey(String domain) {
    if (domain.length() < 3 || domain.charAt(0) != '[' || !domain.endsWith("]")) {
      return null;
    }
    String inner = domain.substring(1, domain.length() - 1);
    byte[] ip;
    if (inner.startsWith("ipv6:")) { // domain is already lower-cased
      ip = IpAddresses.parseIp(inner.substring(5));
    } else if (inner.indexOf(':') < 0) {
      ip = IpAddresses.parseIp(inner);
    } else {
      return null;
    }
    return ip == null ? null : key(ip);
  }

  private static Set<String> addressKeys(Collection<InetAddress> addresses) {
    Set<String> keys = new HashSet<>();
    for (InetAddress a : addresses) {
      // getAddress() carries no zone id, and is normalised like the subject side.
      keys.add(key(IpAddresses.normalize(a.getAddress())));
    }
    return Collections.unmodifiableSet(keys);
  }

  private static String key(byte[] ip) {
    StringBuilder sb = new StringBuilder(ip.length * 2);
    for (byte b : ip) {
      sb.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
    }
    return sb.toString();
  }

  static Collection<InetAddress> interfaceAddresses() {
    List<InetAddress> out = new ArrayList<>();
    try {
      Enumeration<NetworkInterface> nics = NetworkInterface.getNetworkInterfaces();
      if (nics == null) {
        return out;
      }
      for (NetworkInterface nic : Collections.list(nics)) {
        out.addAll(Collections.list(nic.getInetAddresses()));
      }
    } catch (SocketException e) {
      throw new IllegalArgumentException(
          "cannot read the local interface addresses for '@[]': " + e.getMessage(), e);
    }
    return out;
  }
}
