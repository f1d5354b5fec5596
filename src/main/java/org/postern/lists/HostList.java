package org.postern.lists;

import org.postern.net.Cidr;
import org.postern.net.IpAddresses;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * An Exim-style host list, as used by {@code relay_from_hosts}, {@code tls_advertise_hosts} and
 * the {@code hosts =} ACL condition. Instances are immutable and thread-safe.
 *
 * <h2>Syntax</h2>
 *
 * <p>Items are separated by colons; white space around items is ignored. A literal colon inside
 * an item is written twice ({@code ::::1} is the item {@code ::1}), which is awkward for IPv6, so
 * as in Exim the separator can be changed by starting the list with {@code <} followed by a
 * punctuation character: {@code <; ::1 ; 127.0.0.1}. The {@link #parse(List, Function)} form
 * takes one item per element and needs no separator at all.
 *
 * <p>Items are tried from left to right and the first one that matches decides. Item kinds:
 *
 * <ul>
 *   <li>{@code *} &mdash; any host, including a local (non-TCP) sender;
 *   <li>an empty item &mdash; only the local (non-TCP) sender, whose IP address is {@code ""}.
 *       {@code ":"} is a list with one empty item; an entirely empty list matches nothing;
 *   <li>an IPv4 or IPv6 address, optionally with a prefix length ({@code 192.0.2.0/24},
 *       {@code 2001:db8::/32}), compared numerically. IPv4-mapped IPv6 addresses
 *       ({@code ::ffff:192.0.2.1}) are treated as the IPv4 address, on either side. An IPv6
 *       item never matches an IPv4 client and vice versa ({@code ::/0} is "all IPv6");
 *   <li>a host name ({@code mx.example.com}) or a tail wildcard ({@code *.example.com}, which
 *       like Exim is a plain suffix match: {@code *example.com} also matches
 *       {@code badexample.com}), compared case-insensitively with the client's host name;
 *   <li>a regular expression starting with {@code ^}, searched case-insensitively in the host
 *       name ({@link java.util.regex.Matcher#find()}: it is anchored at the start by its
 *       {@code ^}, and at the end only if it ends with {@code $});
 *   <li>{@code +name} &mdash; a named host list, resolved when this list is parsed;
 *   <li>{@code /path} &mdash; the items in that file, one per line ({@link ListFiles});
 *   <li>any of the above preceded by {@code !} &mdash; if it matches, the host is <em>not</em>
 *       in the list (and later items are not consulted).
 * </ul>
 *
 * <p>As in Exim, when no item matches, the answer is "no" unless the last item was negated, in
 * which case it is "yes": {@code !192.0.2.1} means "every host except 192.0.2.1".
 *
 * <h2>Differences from Exim</h2>
 *
 * <ul>
 *   <li>No DNS: a host-name item is compared with the name the caller supplies, never resolved
 *       to addresses. When the caller has no name ({@code null}), name, wildcard and regex items
 *       simply do not match and the scan goes on (Exim instead fails the whole list unless
 *       {@code +ignore_unknown}/{@code +include_unknown} is given; those are rejected here).
 *   <li>Not supported, rejected at parse time with an explanation: {@code @},
 *       {@code @mx_*}, lookups ({@code net-lsearch;...}). {@code @[]} (any address of a local
 *       interface, read when the list is parsed) is supported.
 * </ul>
 *
 * <p>A local sender (IP address {@code ""}) is matched only by {@code *} and the empty item,
 * exactly as in Exim, whatever host name is passed.
 */
public final class HostList {

  private final String spec;
  private final List<ListItem<Subject>> items;

  private HostList(String spec, List<ListItem<Subject>> items) {
    this.spec = spec;
    this.items = List.copyOf(items);
  }

  /**
   * Parses a colon-separated (or {@code <x}-separated) host list that uses no named lists.
   *
   * @param spec the list, e.g. {@code "127.0.0.1 : 192.0.2.0/24"}
   * @return the parsed list
   * @throws IllegalArgumentException if an item is invalid or refers to a named list
   */
  public static HostList of(String spec) {
    return parse(spec, null);
  }

  /**
   * Parses a colon-separated (or {@code <x}-separated) host list.
   *
   * @param spec the list, e.g. {@code "!192.0.2.1 : 192.0.2.0/24 : +trusted"}
   * @param namedLists resolves {@code +name} items to already-built lists; returns {@code null}
   *     for an unknown name. May be {@code null} when no named lists exist.
   * @return the parsed list
   * @throws IllegalArgumentException naming the offending item and the reason
   */
  public static HostList parse(String spec, Function<String, HostList> namedLists) {
    return parse(spec, namedLists, null);
  }

  /**
   * As {@link #parse(String, Function)}, allowing file items ({@code /path}, one item per line)
   * read through {@code files}.
   */
  public static HostList parse(String spec, Function<String, HostList> namedLists, ListFiles files) {
    Objects.requireNonNull(spec, "spec");
    return new HostList(spec, parseItems(ListFiles.expand(ListSyntax.split(spec), "host", files), namedLists));
  }

  /**
   * Parses a host list given one item per element, e.g. from a YAML sequence. Elements are
   * trimmed but otherwise taken literally: no separator splitting and no colon doubling, so
   * {@code "::1"} is the IPv6 loopback address. An empty element is the empty item.
   *
   * @param items the items
   * @param namedLists resolves {@code +name} items; see {@link #parse(String, Function)}
   * @return the parsed list
   * @throws IllegalArgumentException naming the offending item and the reason
   */
  public static HostList parse(List<String> items, Function<String, HostList> namedLists) {
    return parse(items, namedLists, null);
  }

  /** As {@link #parse(List, Function)}, allowing file items read through {@code files}. */
  public static HostList parse(List<String> items, Function<String, HostList> namedLists, ListFiles files) {
    List<String> trimmed = ListSyntax.trimAll(items);
    return new HostList(ListSyntax.join(trimmed), parseItems(ListFiles.expand(trimmed, "host", files), namedLists));
  }

  /**
   * Tells whether a client is in this list.
   *
   * @param ipAddress the client's IP address in textual form ({@code "192.0.2.1"},
   *     {@code "2001:db8::1"}, {@code "::ffff:192.0.2.1"}; surrounding brackets and a
   *     {@code %zone} suffix are ignored), or {@code ""} (or {@code null}) for a local sender
   *     that did not come over TCP, such as {@code -bs}
   * @param hostName the client's verified host name, or {@code null} if unknown; never looked up
   * @return {@code true} if the client is in the list
   */
  public boolean matches(String ipAddress, String hostName) {
    return matches(Subject.of(ipAddress, hostName));
  }

  private boolean matches(Subject subject) {
    return ListItem.matches(items, subject);
  }

  /**
   * Returns the list in Exim syntax: the string given to {@link #parse(String, Function)}, or
   * for a list built from items, an equivalent string that parses back to the same items.
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

  private static List<ListItem<Subject>> parseItems(List<ListFiles.Item> texts, Function<String, HostList> named) {
    List<ListItem<Subject>> items = new ArrayList<>(texts.size());
    for (ListFiles.Item text : texts) {
      items.add(parseItem(text.text(), text.origin(), named));
    }
    return items;
  }

  private static ListItem<Subject> parseItem(String raw, String origin, Function<String, HostList> named) {
    String text = raw;
    boolean negated = false;
    if (text.startsWith("!")) {
      negated = true;
      text = ListSyntax.stripLeadingSpace(text.substring(1));
    }
    try {
      return new ListItem<>(negated, parseMatcher(text, named));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "invalid host list " + origin + " \"" + raw + "\": " + e.getMessage(), e);
    }
  }

  private static ItemTest parseMatcher(String text, Function<String, HostList> named) {
    if (text.equals("*")) {
      return s -> true;
    }
    if (text.isEmpty()) {
      return s -> s.local;
    }
    if (text.startsWith("+")) {
      String name = text.substring(1);
      if (name.equals("include_unknown") || name.equals("ignore_unknown")
          || name.equals("include_defer") || name.equals("ignore_defer")) {
        throw new IllegalArgumentException(
            "not supported: host names are never looked up here; a name item simply does not"
                + " match when the client's host name is unknown");
      }
      HostList list = resolve(name, named);
      return s -> list.matches(s);
    }
    if (text.equals("@[]")) {
      // Exim: any IP address of a local interface, read once, when the list is parsed.
      java.util.Set<String> local = new java.util.HashSet<>();
      for (java.net.InetAddress a : DomainList.interfaceAddresses()) {
        local.add(java.util.HexFormat.of().formatHex(IpAddresses.normalize(a.getAddress())));
      }
      return s -> s.ip != null && local.contains(java.util.HexFormat.of().formatHex(s.ip));
    }
    if (text.startsWith("@")) {
      throw new IllegalArgumentException(
          "only '@[]' (local interface addresses) is supported among '@' items in host lists");
    }
    if (text.startsWith("^")) {
      Pattern p = compileRegex(text);
      return s -> !s.local && s.hostName != null && p.matcher(s.hostName).find();
    }
    if (text.indexOf(';') >= 0) {
      throw new IllegalArgumentException("lookups are not supported in host lists");
    }
    ItemTest cidr = parseCidr(text);
    if (cidr != null) {
      return cidr;
    }
    if (text.startsWith("*")) {
      checkNameChars(text.substring(1), "wildcard");
      String suffix = stripTrailingDot(text.substring(1).toLowerCase(Locale.ROOT));
      return s -> !s.local && s.hostName != null && s.hostName.endsWith(suffix);
    }
    checkNameChars(text, "host name");
    String name = stripTrailingDot(text.toLowerCase(Locale.ROOT));
    return s -> !s.local && name.equals(s.hostName);
  }

  private static HostList resolve(String name, Function<String, HostList> named) {
    if (name.isEmpty()) {
      throw new IllegalArgumentException("missing list name after '+'");
    }
    HostList list = named == null ? null : named.apply(name);
    if (list == null) {
      throw new IllegalArgumentException("unknown named host list \"" + name + "\"");
    }
    return list;
  }

  static Pattern compileRegex(String text) {
    try {
      return Pattern.compile(text, Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);
    } catch (PatternSyntaxException e) {
      throw new IllegalArgumentException("invalid regular expression: " + e.getDescription());
    }
  }

  /** Returns a matcher if {@code text} is an IP address or network, null if it is not IP-ish. */
  private static ItemTest parseCidr(String text) {
    Cidr network = Cidr.parse(text);
    return network == null ? null : s -> network.contains(s.ip);
  }

  private static void checkNameChars(String name, String what) {
    if (name.isEmpty()) {
      throw new IllegalArgumentException("empty " + what);
    }
    for (int k = 0; k < name.length(); k++) {
      char c = name.charAt(k);
      boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || c == '.' || c == '-' || c == '_' || c >= 0x80;
      if (!ok) {
        throw new IllegalArgumentException(
            String.format("character U+%04X is not valid in a %s", (int) c, what));
      }
    }
  }

  private static String stripTrailingDot(String name) {
    return name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
  }


  private interface ItemTest extends java.util.function.Predicate<Subject> {
  }

  /** The client being checked, normalised once per {@link #matches} call. */
  private static final class Subject {
    final boolean local;
    final byte[] ip;
    final String hostName;

    private Subject(boolean local, byte[] ip, String hostName) {
      this.local = local;
      this.ip = ip;
      this.hostName = hostName;
    }

    static Subject of(String ipAddress, String hostName) {
      String a = ipAddress == null ? "" : ipAddress.trim();
      if (a.startsWith("[") && a.endsWith("]")) {
        a = a.substring(1, a.length() - 1);
      }
      int zone = a.indexOf('%');
      if (zone >= 0) {
        a = a.substring(0, zone);
      }
      String name = hostName == null || hostName.isEmpty()
          ? null
          : stripTrailingDot(hostName.toLowerCase(Locale.ROOT));
      return new Subject(a.isEmpty(), a.isEmpty() ? null : IpAddresses.parseIp(a), name);
    }
  }

  /**
   * Exim list syntax (separator, doubling, empty items), shared with {@link DomainList}. It lives
   * here rather than in its own file only to keep the ACL list code in two files.
   */
  static final class ListSyntax {
    private ListSyntax() {}

    /**
     * Splits like Exim's {@code string_nextinlist}: items are trimmed, a doubled separator is a
     * literal separator (except for control-character separators, which cannot be escaped), a
     * separator right after another (with only space between) yields an empty item, and a
     * trailing separator does not. A leading {@code <x} with {@code x} punctuation or a control
     * character sets the separator.
     */
    static List<String> split(String spec) {
      List<String> items = new ArrayList<>();
      int n = spec.length();
      int i = 0;
      while (i < n && isSpace(spec.charAt(i))) {
        i++;
      }
      char sep = ':';
      if (i + 1 < n && spec.charAt(i) == '<'
          && (isPunct(spec.charAt(i + 1)) || isCntrl(spec.charAt(i + 1)))) {
        sep = spec.charAt(i + 1);
        i += 2;
      }
      boolean escapable = !isCntrl(sep);
      while (true) {
        while (i < n && isSpace(spec.charAt(i)) && spec.charAt(i) != sep) {
          i++;
        }
        if (i >= n) {
          return items;
        }
        StringBuilder item = new StringBuilder();
        while (i < n) {
          char c = spec.charAt(i);
          if (c == sep) {
            if (escapable && i + 1 < n && spec.charAt(i + 1) == sep) {
              item.append(sep);
              i += 2;
              continue;
            }
            i++;
            break;
          }
          item.append(c);
          i++;
        }
        int len = item.length();
        while (len > 0 && isSpace(item.charAt(len - 1))) {
          len--;
        }
        items.add(item.substring(0, len));
      }
    }

    /** Inverse of {@link #split}: a spec string that splits back into exactly {@code items}. */
    static String join(List<String> items) {
      if (items.isEmpty()) {
        return "";
      }
      // Prefer a separator that no item contains, so nothing needs doubling (IPv6 -> ';').
      char sep = ':';
      for (char candidate : new char[] {':', ';', ',', '|'}) {
        if (items.stream().noneMatch(it -> it.indexOf(candidate) >= 0)) {
          sep = candidate;
          break;
        }
      }
      StringBuilder sb = new StringBuilder();
      if (sep != ':' || items.get(0).startsWith("<")) {
        sb.append('<').append(sep).append(' ');
      }
      String sepText = String.valueOf(sep);
      String doubled = sepText + sepText;
      for (int k = 0; k < items.size(); k++) {
        if (k > 0) {
          sb.append(' ').append(sep).append(' ');
        }
        sb.append(items.get(k).replace(sepText, doubled));
      }
      // An empty last item needs a separator to terminate it, or it would vanish.
      if (items.get(items.size() - 1).isEmpty()) {
        sb.append(' ').append(sep);
      }
      return sb.toString();
    }

    static List<String> trimAll(List<String> items) {
      Objects.requireNonNull(items, "items");
      List<String> out = new ArrayList<>(items.size());
      for (String item : items) {
        Objects.requireNonNull(item, "list item");
        out.add(stripTrailingSpace(stripLeadingSpace(item)));
      }
      return out;
    }

    static String stripLeadingSpace(String s) {
      int i = 0;
      while (i < s.length() && isSpace(s.charAt(i))) {
        i++;
      }
      return s.substring(i);
    }

    private static String stripTrailingSpace(String s) {
      int len = s.length();
      while (len > 0 && isSpace(s.charAt(len - 1))) {
        len--;
      }
      return s.substring(0, len);
    }

    /** C isspace(). */
    private static boolean isSpace(char c) {
      return c == ' ' || (c >= '\t' && c <= '\r');
    }

    /** C ispunct() in the ASCII range. */
    private static boolean isPunct(char c) {
      return c > ' ' && c < 0x7f && !Character.isLetterOrDigit(c);
    }

    /** C iscntrl(). */
    private static boolean isCntrl(char c) {
      return c < ' ' || c == 0x7f;
    }
  }
}
