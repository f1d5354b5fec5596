package org.postern.lists;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * An Exim address list, as used by the {@code senders} and {@code recipients} ACL conditions and
 * named with {@code addresslist}. Immutable and thread-safe. Same list syntax, first-match and
 * negation rules as {@link HostList}. Matching ignores case throughout (Exim lowercases domains
 * and, without {@code +caseful}, compares local parts caselessly too).
 *
 * <p>Item kinds:
 * <ul>
 *   <li>an empty item &mdash; the null sender {@code <>}, which no other item matches;
 *   <li>{@code ^regex} &mdash; searched in the whole address;
 *   <li>{@code local@domain} &mdash; the local part literally, or {@code *} for any, or
 *       {@code *suffix}; the domain as a {@link DomainList} item ({@code *.example.com},
 *       {@code @}, {@code ^regex}, ...);
 *   <li>an item without {@code @} &mdash; a domain list item matched against the address's
 *       domain ({@code example.com}, {@code *.example.com}, {@code *});
 *   <li>{@code +name} &mdash; a named address list; {@code /path} &mdash; a file of items;
 *       {@code !} before any of these negates it.
 * </ul>
 */
public final class AddressList {
  private final String spec;
  private final List<ListItem<String>> entries;

  private AddressList(String spec, List<ListItem<String>> entries) {
    this.spec = spec;
    this.entries = List.copyOf(entries);
  }

  /**
   * Parses an address list.
   *
   * @param items      the list as a colon-separated string (one element) or one item per element
   * @param sequence   true when {@code items} holds one item per element (a YAML sequence)
   * @param named      resolves {@code +name}; null when there are none
   * @param files      reads {@code /path} items; null to refuse them
   * @throws IllegalArgumentException naming the offending item
   */
  public static AddressList parse(List<String> items, boolean sequence, String primaryHostname,
                                  Function<String, AddressList> named, ListFiles files) {
    List<String> texts = sequence ? HostList.ListSyntax.trimAll(items)
        : HostList.ListSyntax.split(String.join(" : ", items));
    List<ListItem<String>> entries = new ArrayList<>();
    for (ListFiles.Item item : ListFiles.expand(texts, "address", files)) {
      String text = item.text();
      boolean negated = text.startsWith("!");
      String body = negated ? HostList.ListSyntax.stripLeadingSpace(text.substring(1)) : text;
      try {
        entries.add(new ListItem<>(negated, test(body, primaryHostname, named)));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("invalid address list " + item.origin() + " \"" + text + "\": "
            + e.getMessage(), e);
      }
    }
    return new AddressList(HostList.ListSyntax.join(texts), entries);
  }

  /** As {@link #parse(List, boolean, String, Function, ListFiles)} for one colon-separated string. */
  public static AddressList of(String spec) {
    return parse(List.of(spec), false, null, null, null);
  }

  private static Predicate<String> test(String item, String primaryHostname, Function<String, AddressList> named) {
    if (item.isEmpty()) {
      return String::isEmpty;
    }
    if (item.startsWith("+")) {
      String name = item.substring(1);
      AddressList list = named == null ? null : named.apply(name);
      if (list == null) {
        throw new IllegalArgumentException("unknown named address list \"" + name + "\"");
      }
      return list::matches;
    }
    if (item.startsWith("^")) {
      Pattern p = HostList.compileRegex(item);
      return a -> !a.isEmpty() && p.matcher(a).find();
    }
    if (item.startsWith("@@") || item.indexOf(';') >= 0) {
      throw new IllegalArgumentException("lookups are not supported in address lists");
    }
    int at = item.lastIndexOf('@');
    DomainList domains = DomainList.parse(List.of(at < 0 ? item : item.substring(at + 1)), primaryHostname, null);
    if (at < 0) {
      return a -> !a.isEmpty() && domains.matches(domainOf(a));
    }
    Predicate<String> local = localPart(item.substring(0, at).toLowerCase(Locale.ROOT));
    return a -> {
      int sep = a.lastIndexOf('@');
      return sep > 0 && local.test(a.substring(0, sep).toLowerCase(Locale.ROOT))
          && domains.matches(a.substring(sep + 1));
    };
  }

  private static Predicate<String> localPart(String pattern) {
    if (pattern.equals("*")) {
      return l -> true;
    }
    if (pattern.startsWith("*")) {
      String suffix = pattern.substring(1);
      return l -> l.endsWith(suffix);
    }
    if (pattern.isEmpty()) {
      throw new IllegalArgumentException("empty local part before '@' (use * for any)");
    }
    return pattern::equals;
  }

  private static String domainOf(String address) {
    int at = address.lastIndexOf('@');
    return at < 0 ? "" : address.substring(at + 1);
  }

  /**
   * @param address an address without angle brackets; {@code ""} for the null sender
   * @return true if the address is in the list
   */
  public boolean matches(String address) {
    Objects.requireNonNull(address, "address");
    return ListItem.matches(entries, address);
  }

  public String spec() {
    return spec;
  }

  @Override
  public String toString() {
    return spec;
  }
}
