package org.postern.queue;

import io.vertx.core.Future;
import org.postern.bus.RemoteHost;
import org.postern.config.PosternConfig;
import org.postern.config.RouterConfig;
import org.postern.dns.DnsResolver;
import org.postern.dns.DnsSettings;
import org.postern.dns.DnsTemporaryFailure;
import org.postern.dns.MailExchanger;
import org.postern.net.IpAddresses;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.Function;

/**
 * Runs the remote routers ({@code manualroute}, {@code dnslookup}, {@code accept}) for one domain, in the
 * configured order, and turns host names into addresses with the {@link DnsResolver}. The first
 * router that considers the domain and does not decline decides.
 */
final class RemoteRouter {
  /** What routing a domain came to. */
  sealed interface Decision permits Routed, Failed, Deferred {
  }

  /** Send to these hosts, in order, through the router's transport; no hosts for an accept router. */
  record Routed(RouterConfig router, List<RemoteHost> hosts) implements Decision {
  }

  /** Permanent: the recipients fail (and bounce). {@code router} is null when no router took the domain. */
  record Failed(RouterConfig router, String reason) implements Decision {
  }

  /** Temporary: try again later. */
  record Deferred(RouterConfig router, String reason) implements Decision {
  }

  static final String UNROUTEABLE = "Unrouteable address";
  static final String NULL_MX = "domain does not accept mail";

  private final Function<DnsSettings, DnsResolver> resolvers;
  private final Random random;

  /** @param resolvers the resolver for a configuration's DNS settings (they may change on reload) */
  RemoteRouter(Function<DnsSettings, DnsResolver> resolvers, Random random) {
    this.resolvers = resolvers;
    this.random = random;
  }

  Future<Decision> route(PosternConfig config, String domain) {
    return next(config, resolvers.apply(config.dns()), domain.toLowerCase(Locale.ROOT), 0);
  }

  private Future<Decision> next(PosternConfig config, DnsResolver dns, String domain, int index) {
    List<RouterConfig> routers = config.delivery().routers();
    for (int i = index; i < routers.size(); i++) {
      RouterConfig r = routers.get(i);
      if (r.driver() == RouterConfig.Driver.LOCAL || !r.considers(domain, config.localDomains())) {
        continue;
      }
      int following = i + 1;
      int port = config.delivery().transportPort(r.transport());
      Future<Decision> decision = switch (r.driver()) {
        case MANUALROUTE -> manualroute(dns, r, port, domain);
        case DNSLOOKUP -> dnslookup(dns, r, port, config.primaryHostname(), domain);
        default -> Future.succeededFuture(new Routed(r, List.of()));
      };
      return decision.compose(d -> d == null ? next(config, dns, domain, following) : Future.succeededFuture(d));
    }
    return Future.succeededFuture(new Failed(null, UNROUTEABLE));
  }

  /** Null when the router declines (no route for the domain). */
  private Future<Decision> manualroute(DnsResolver dns, RouterConfig r, int port, String domain) {
    RouterConfig.Route route = r.routeFor(domain);
    if (route == null) {
      return Future.succeededFuture(null);
    }
    List<Future<List<RemoteHost>>> lookups = new ArrayList<>();
    for (RouterConfig.RouteHost h : route.hosts()) {
      lookups.add(addresses(dns, h.host(), h.port() < 0 ? port : h.port()));
    }
    return hostsDecision(r, lookups, "all hosts for " + domain + " have no addresses");
  }

  private Future<Decision> dnslookup(DnsResolver dns, RouterConfig r, int port, String self, String domain) {
    return dns.lookupMx(domain).compose(mx -> {
      if (mx.size() == 1 && mx.get(0).exchange().equals(".")) {
        return Future.succeededFuture(new Failed(r, NULL_MX));
      }
      if (mx.isEmpty()) {
        // RFC 5321 5.1: no MX records, the domain itself is the implicit MX.
        return addresses(dns, domain, port).map(hosts -> hosts.isEmpty() ? new Failed(r, UNROUTEABLE)
            : (Decision) new Routed(r, hosts));
      }
      List<MailExchanger> ordered = order(mx, self, random);
      if (ordered.isEmpty()) {
        return Future.succeededFuture(new Deferred(r, "lowest numbered MX record points to local host"));
      }
      List<Future<List<RemoteHost>>> lookups = new ArrayList<>();
      for (MailExchanger m : ordered) {
        lookups.add(addresses(dns, m.exchange(), port));
      }
      return hostsDecision(r, lookups, "all relevant MX records point to non-existent hosts");
    }).recover(e -> e instanceof DnsTemporaryFailure ? Future.succeededFuture(
        new Deferred(r, "host lookup did not complete: " + e.getMessage())) : Future.failedFuture(e));
  }

  /**
   * RFC 5321 5.1: by preference, equal preferences in random order; when this host is in the list,
   * only the hosts preferred to it remain.
   */
  static List<MailExchanger> order(List<MailExchanger> mx, String self, Random random) {
    List<MailExchanger> sorted = new ArrayList<>();
    List<MailExchanger> group = new ArrayList<>();
    List<MailExchanger> byPreference = new ArrayList<>(mx);
    byPreference.sort(java.util.Comparator.comparingInt(MailExchanger::preference));
    for (MailExchanger m : byPreference) {
      if (!group.isEmpty() && group.get(0).preference() != m.preference()) {
        Collections.shuffle(group, random);
        sorted.addAll(group);
        group.clear();
      }
      group.add(m);
    }
    Collections.shuffle(group, random);
    sorted.addAll(group);
    int ours = sorted.stream().filter(m -> m.exchange().equalsIgnoreCase(self)).mapToInt(MailExchanger::preference)
        .min().orElse(Integer.MAX_VALUE);
    return sorted.stream().filter(m -> m.preference() < ours).toList();
  }

  private Future<Decision> hostsDecision(RouterConfig r, List<Future<List<RemoteHost>>> lookups, String none) {
    return Future.join(lookups).transform(ar -> {
      List<RemoteHost> hosts = new ArrayList<>();
      String temporary = null;
      for (Future<List<RemoteHost>> f : lookups) {
        if (f.succeeded()) {
          hosts.addAll(f.result());
        } else if (f.cause() instanceof DnsTemporaryFailure t) {
          temporary = t.getMessage();
        } else {
          return Future.failedFuture(f.cause());
        }
      }
      if (!hosts.isEmpty()) {
        return Future.succeededFuture(new Routed(r, hosts));
      }
      return Future.succeededFuture(temporary != null ? new Deferred(r, "host lookup did not complete: " + temporary)
          : new Failed(r, none));
    });
  }

  /** A name's IPv4 then IPv6 addresses; an IP address as it is. */
  private static Future<List<RemoteHost>> addresses(DnsResolver dns, String host, int port) {
    if (IpAddresses.isIpAddress(host)) {
      return Future.succeededFuture(List.of(new RemoteHost(null, host, port)));
    }
    Future<List<String>> a = dns.lookupA(host);
    Future<List<String>> aaaa = dns.lookupAaaa(host);
    return Future.all(a, aaaa).map(v -> {
      List<RemoteHost> out = new ArrayList<>();
      a.result().forEach(ip -> out.add(new RemoteHost(host, ip, port)));
      aaaa.result().forEach(ip -> out.add(new RemoteHost(host, ip, port)));
      return out;
    });
  }
}
