package org.postern.policy;

import io.vertx.core.Future;
import org.postern.dns.DnsResolver;
import org.postern.dns.DnsResolvers;
import org.postern.expand.ExpansionException;
import org.postern.net.IpAddresses;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * {@code dnslists = zen.example : bl.example=127.0.0.2,127.0.0.3}: Exim's DNS list condition. The
 * client's address, reversed ({@code 2.0.0.192.bl.example}, 32 nibbles for IPv6), is looked up
 * under each list in turn; the first list that lists it makes the condition true and sets
 * {@code $dnslist_domain}, {@code $dnslist_value} (the A record), {@code $dnslist_text} (its TXT
 * record, empty when there is none) and {@code $dnslist_matched} (what was looked up). A local
 * message (no {@code $sender_host_address}) is never listed and causes no lookup.
 *
 * <p>A list that cannot be asked (timeout, SERVFAIL) makes the condition DEFER: unlike Exim, whose
 * default is {@code +exclude_unknown}, Postern does not let a broken blocklist pass mail silently,
 * and a lookup never takes longer than {@code dns_timeout} times the attempts, so the session
 * answers 4xx rather than hanging. Exim's {@code +exclude_unknown} (skip that list) and
 * {@code +include_unknown} (count it as listed) items choose otherwise, for the whole condition.
 */
public final class DnsListsCondition implements AclCondition {
  /** What an undecidable lookup means: Exim's {@code +defer_unknown}, {@code +exclude_unknown}, {@code +include_unknown}. */
  enum Unknown { DEFER, EXCLUDE, INCLUDE }

  private final String spec;
  private final List<DnsListItem> items;
  private final Unknown unknown;

  private DnsListsCondition(String spec, List<DnsListItem> items, Unknown unknown) {
    this.spec = spec;
    this.items = items;
    this.unknown = unknown;
  }

  /** Parses the colon-separated list; IllegalArgumentException names the item that is wrong. */
  public static DnsListsCondition parse(String spec) {
    List<DnsListItem> items = new ArrayList<>();
    Unknown unknown = Unknown.DEFER;
    for (String raw : spec.split(":")) {
      String item = raw.strip();
      if (item.isEmpty()) {
        continue;
      }
      if (item.startsWith("+")) {
        unknown = switch (item) {
          case "+defer_unknown" -> Unknown.DEFER;
          case "+exclude_unknown" -> Unknown.EXCLUDE;
          case "+include_unknown" -> Unknown.INCLUDE;
          default -> throw new IllegalArgumentException("unknown option \"" + item
              + "\" (+defer_unknown, +exclude_unknown, +include_unknown)");
        };
        continue;
      }
      items.add(DnsListItem.parse(item));
    }
    if (items.isEmpty()) {
      throw new IllegalArgumentException("no DNS list domain given");
    }
    return new DnsListsCondition(spec.strip(), List.copyOf(items), unknown);
  }

  @Override
  public Future<Outcome> test(AclContext context) {
    String client = context.variable("sender_host_address");
    if ((client == null || client.isEmpty()) && items.stream().allMatch(i -> i.key() == null)) {
      return Future.succeededFuture(Outcome.FALSE);
    }
    if (context.vertx() == null) {
      return Future.succeededFuture(Outcome.DEFER);
    }
    DnsResolver resolver = DnsResolvers.of(context.vertx(), context.config().dns());
    return check(0, resolver, context);
  }

  private Future<Outcome> check(int index, DnsResolver resolver, AclContext context) {
    if (index >= items.size()) {
      return Future.succeededFuture(Outcome.FALSE);
    }
    DnsListItem item = items.get(index);
    String key = key(item, context);
    if (key == null) {
      return check(index + 1, resolver, context);
    }
    String name = queryName(key, item.domain());
    return resolver.lookupA(name).transform(ar -> {
      if (ar.failed()) {
        context.trace().accept("  dnslists: " + name + ": " + ar.cause().getMessage());
        return switch (unknown) {
          case DEFER -> Future.succeededFuture(Outcome.DEFER);
          case EXCLUDE -> check(index + 1, resolver, context);
          case INCLUDE -> listed(item, key, "", "", context);
        };
      }
      List<String> records = ar.result();
      context.trace().accept("  dnslists: " + name + " -> " + (records.isEmpty() ? "not found" : records));
      if (!item.listed(records)) {
        return check(index + 1, resolver, context);
      }
      String value = item.matchingRecord(records);
      return resolver.lookupTxt(name).map(txt -> String.join("", txt)).otherwise("")
          .compose(text -> listed(item, key, value, text, context));
    });
  }

  private static Future<Outcome> listed(DnsListItem item, String key, String value, String text, AclContext context) {
    context.put("dnslist_domain", item.domain());
    context.put("dnslist_value", value);
    context.put("dnslist_text", text);
    context.put("dnslist_matched", key);
    return Future.succeededFuture(Outcome.TRUE);
  }

  /** What the item looks up: its key expanded, or the client's address; null when there is nothing to look up. */
  private static String key(DnsListItem item, AclContext context) {
    String key;
    if (item.key() == null) {
      key = context.variable("sender_host_address");
    } else {
      try {
        key = item.key().expand(context::variable);
      } catch (ExpansionException e) {
        return null;
      }
    }
    if (key == null) {
      return null;
    }
    key = key.strip();
    if (key.endsWith(".")) {
      key = key.substring(0, key.length() - 1);
    }
    // A key that is neither an address nor a domain name (an empty sender domain) is not listed.
    return key.isEmpty() || (IpAddresses.parseIp(key) == null && !DnsListItem.isDomain(key)) ? null : key;
  }

  /** {@code 2.0.0.192.bl.example} for an IPv4 address, 32 reversed nibbles for IPv6, the name itself otherwise. */
  static String queryName(String key, String domain) {
    byte[] ip = IpAddresses.parseIp(key);
    if (ip == null) {
      return key + "." + domain;
    }
    StringBuilder sb = new StringBuilder();
    if (ip.length == 4) {
      for (int i = 3; i >= 0; i--) {
        sb.append(ip[i] & 0xff).append('.');
      }
    } else {
      String hex = HexFormat.of().formatHex(ip);
      for (int i = hex.length() - 1; i >= 0; i--) {
        sb.append(hex.charAt(i)).append('.');
      }
    }
    return sb.append(domain).toString();
  }

  @Override
  public String describe() {
    return "dnslists = " + spec;
  }
}
