package org.postern.config;

import org.postern.lists.DomainList;
import org.postern.net.IpAddresses;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One entry of the ordered {@code routers:} list, Exim-style. A router looks at a recipient whose
 * domain is in its {@code domains} list and either routes it, fails it, defers it, or declines,
 * and then the next router is asked.
 *
 * @param name      the router's name ({@code R=} in the log)
 * @param driver    what kind of router it is
 * @param domains   domains it considers; null = every domain (the local driver: {@code +local_domains})
 * @param transport the transport it routes to ({@code T=}); null for the local driver (maildir)
 * @param routes    {@code route_list} of a manualroute router, in order; empty otherwise
 */
public record RouterConfig(String name, Driver driver, DomainList domains, String transport, List<Route> routes) {

  /** Router drivers Postern has. */
  public enum Driver {
    /** Local domains: aliases, then local mailboxes (maildir). */
    LOCAL,
    /** Exim's manualroute: fixed hosts per domain pattern ({@code route_list}). */
    MANUALROUTE,
    /** Exim's dnslookup: MX records, or the domain's own addresses when it has none. */
    DNSLOOKUP,
    /**
     * Exim's accept: every address it considers goes to its transport, with no hosts; for plugin
     * transports ({@code driver: plugin}), which know where the mail goes themselves.
     */
    ACCEPT
  }

  /**
   * One {@code route_list} item: recipients whose domain matches go to the hosts, in order.
   *
   * @param pattern the domain pattern (one domain-list item, {@code *} for any)
   * @param hosts   the hosts, tried in order
   */
  public record Route(DomainList pattern, List<RouteHost> hosts) {
    public Route {
      hosts = List.copyOf(hosts);
    }
  }

  /**
   * One host of a route: a name to look up or an IP address, and a port (-1: the transport's port).
   */
  public record RouteHost(String host, int port) {
  }

  public RouterConfig {
    routes = List.copyOf(routes);
  }

  /** True when this router considers the domain at all (its {@code domains} option). */
  public boolean considers(String domain, DomainList localDomains) {
    if (domains != null) {
      return domains.matches(domain);
    }
    return driver != Driver.LOCAL || localDomains.matches(domain);
  }

  /** The first route whose pattern matches the domain, or null (then the router declines). */
  public Route routeFor(String domain) {
    for (Route r : routes) {
      if (r.pattern().matches(domain)) {
        return r;
      }
    }
    return null;
  }

  /**
   * Parses Exim's {@code route_list}: routes separated by {@code ;}, each
   * {@code domain-pattern  host-list}; hosts separated by {@code :} (blanks around it allowed); a port written with Exim's
   * doubled colon, {@code smtp.example.net::587}; an IPv6 address in brackets,
   * {@code [2001:db8::1]::587}.
   *
   * @throws IllegalArgumentException with a reason fit for a configuration error
   */
  public static List<Route> parseRouteList(String spec, String primaryHostname, Map<String, DomainList> named) {
    List<Route> out = new ArrayList<>();
    for (String item : spec.split(";")) {
      String route = item.strip();
      if (route.isEmpty()) {
        continue;
      }
      String[] parts = route.split("\\s+", 2);
      if (parts.length < 2) {
        throw new IllegalArgumentException("route \"" + route + "\" has no host list (expected \"<domain-pattern> <hosts>\")");
      }
      // Blanks around the colons of the host list are allowed (Exim would want the list quoted).
      String[] hostAndOptions = parts[1].strip().replaceAll("\\s*:\\s*", ":").split("\\s+");
      if (hostAndOptions.length > 1) {
        throw new IllegalArgumentException("route \"" + route + "\": unsupported route option \"" + hostAndOptions[1]
            + "\"");
      }
      DomainList pattern = DomainList.parse(parts[0], primaryHostname, named::get);
      out.add(new Route(pattern, hosts(hostAndOptions[0])));
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException("empty route_list");
    }
    return List.copyOf(out);
  }

  private static List<RouteHost> hosts(String list) {
    List<RouteHost> hosts = new ArrayList<>();
    int i = 0;
    while (i < list.length()) {
      StringBuilder host = new StringBuilder();
      int port = -1;
      if (list.charAt(i) == '[') {
        int close = list.indexOf(']', i);
        if (close < 0) {
          throw new IllegalArgumentException("unclosed [ in host list \"" + list + "\"");
        }
        host.append(list, i + 1, close);
        i = close + 1;
        if (!IpAddresses.isIpAddress(host.toString())) {
          throw new IllegalArgumentException("not an IP address in brackets: \"" + host + "\"");
        }
      } else {
        while (i < list.length() && list.charAt(i) != ':') {
          host.append(list.charAt(i++));
        }
      }
      if (list.startsWith("::", i)) {
        int end = list.indexOf(':', i + 2);
        String digits = list.substring(i + 2, end < 0 ? list.length() : end);
        try {
          port = Integer.parseInt(digits);
        } catch (NumberFormatException e) {
          port = -2;
        }
        if (port < 1 || port > 65535) {
          throw new IllegalArgumentException("bad port \"" + digits + "\" in host list \"" + list + "\"");
        }
        i = end < 0 ? list.length() : end;
      }
      if (i < list.length() && list.charAt(i) != ':') {
        throw new IllegalArgumentException("unexpected \"" + list.charAt(i) + "\" in host list \"" + list + "\"");
      }
      i++;
      String name = host.toString().strip();
      if (!IpAddresses.isIpAddress(name) && !name.matches("[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?")) {
        throw new IllegalArgumentException("not a host name or IP address: \"" + name + "\" in host list \"" + list
            + "\"");
      }
      hosts.add(new RouteHost(name, port));
    }
    return hosts;
  }
}
