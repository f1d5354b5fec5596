package org.postern.policy;

import org.postern.expand.Expansion;
import org.postern.expand.VariableNames;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One list of a {@code dnslists} condition: {@code domain[=values | !=values | ==values | !==values][/key]}.
 * Without values any A record means listed; {@code =} needs one record among the values, {@code ==}
 * all of them; {@code !=} is true when no record is among them, {@code !==} when not all are
 * (Exim's negated forms: a name without records is never listed, negated or not).
 * The key, an expansion, replaces the client's address: an IP address is reversed, anything else
 * is looked up as a domain name ({@code dbl.example/$sender_helo_name}).
 */
record DnsListItem(String domain, Comparison comparison, List<DnsListValuePattern> values, Expansion key,
                   String source) {

  /** How returned A records are compared with the values. */
  enum Comparison { ANY, ONE_OF, ALL_OF, NONE_OF, NOT_ALL_OF }

  private static final Pattern SYNTAX = Pattern.compile("([^=!&]*)(?:(!==|!=|==|=)([^&]*))?");
  private static final Pattern LABEL = Pattern.compile("[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?");

  static DnsListItem parse(String text) {
    String t = text.strip();
    int slash = t.indexOf('/');
    String main = slash < 0 ? t : t.substring(0, slash).strip();
    Expansion key = null;
    if (slash >= 0) {
      String keyText = t.substring(slash + 1).strip();
      if (keyText.isEmpty()) {
        throw new IllegalArgumentException("empty key after / in \"" + t + "\"");
      }
      key = Expansion.parse(keyText, VariableNames::isKnown);
    }
    if (main.indexOf('&') >= 0) {
      throw new IllegalArgumentException("bit mask forms (=& and !&) are not supported: \"" + t + "\"");
    }
    Matcher m = SYNTAX.matcher(main);
    if (!m.matches()) {
      throw new IllegalArgumentException("expected domain, domain=a.b.c.d,... or domain!=a.b.c.d,...: \"" + t + "\"");
    }
    String domain = m.group(1).strip().toLowerCase(Locale.ROOT);
    if (domain.endsWith(".")) {
      domain = domain.substring(0, domain.length() - 1);
    }
    if (!isDomain(domain)) {
      throw new IllegalArgumentException("not a DNS list domain: \"" + m.group(1).strip() + "\"");
    }
    Comparison comparison = Comparison.ANY;
    List<DnsListValuePattern> values = List.of();
    if (m.group(2) != null) {
      comparison = switch (m.group(2)) {
        case "=" -> Comparison.ONE_OF;
        case "==" -> Comparison.ALL_OF;
        case "!=" -> Comparison.NONE_OF;
        default -> Comparison.NOT_ALL_OF;
      };
      if (m.group(3).isBlank()) {
        throw new IllegalArgumentException("no address after " + m.group(2) + " in \"" + t + "\"");
      }
      values = Arrays.stream(m.group(3).split(",", -1)).map(DnsListValuePattern::parse).toList();
    }
    return new DnsListItem(domain, comparison, values, key, t);
  }

  static boolean isDomain(String domain) {
    if (domain.isEmpty() || domain.length() > 253) {
      return false;
    }
    for (String label : domain.split("\\.", -1)) {
      if (!LABEL.matcher(label).matches()) {
        return false;
      }
    }
    return true;
  }

  /** Whether the A records of a lookup list the key; no records never do. */
  boolean listed(List<String> records) {
    if (records.isEmpty()) {
      return false;
    }
    return switch (comparison) {
      case ANY -> true;
      case ONE_OF -> records.stream().anyMatch(this::inValues);
      case ALL_OF -> records.stream().allMatch(this::inValues);
      case NONE_OF -> records.stream().noneMatch(this::inValues);
      case NOT_ALL_OF -> !records.stream().allMatch(this::inValues);
    };
  }

  /** The record reported in {@code $dnslist_value}: the first that made the item true. */
  String matchingRecord(List<String> records) {
    return switch (comparison) {
      case ONE_OF -> records.stream().filter(this::inValues).findFirst().orElse(records.get(0));
      case NONE_OF, NOT_ALL_OF -> records.stream().filter(r -> !inValues(r)).findFirst().orElse(records.get(0));
      default -> records.get(0);
    };
  }

  private boolean inValues(String record) {
    return values.stream().anyMatch(v -> v.matches(record));
  }
}
