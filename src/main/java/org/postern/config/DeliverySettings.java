package org.postern.config;

import org.postern.expand.EximTime;
import org.postern.lists.DomainList;
import org.postern.lists.HostList;
import org.yaml.snakeyaml.nodes.Node;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Outbound delivery: the ordered routers, the smtp transports, the retry rules and the queue
 * runner's main options ({@code remote_max_parallel}, {@code queue_run_interval},
 * {@code received_headers_max}).
 *
 * @param routers            the routers in order; null when {@code routers:} is absent (local delivery only,
 *                           remote recipients stay queued)
 * @param transports         smtp transports by name
 * @param pluginTransports   transports served by plugins ({@code driver: plugin}) by name
 * @param retryRules         {@code retry}, {@code retry_interval_max}, {@code retry_data_expire}
 * @param remoteMaxParallel  at most this many remote deliveries at once (Exim's default 2)
 * @param queueRunInterval   time between periodic queue runs (5m)
 * @param receivedHeadersMax a message with more {@code Received:} headers is failed as a mail loop (30)
 * @param delayWarning       Exim's {@code delay_warning}: when a message is still undelivered this long
 *                           after arrival, its sender is told (then at the next times; the last
 *                           interval repeats); empty for never. Default {@code 24h}.
 * @param ignoreBounceErrorsAfter a frozen bounce (one that could not be delivered) older than this is
 *                           discarded at the next queue run (Exim's option, default {@code 10w})
 * @param localDeliveryBeforeAck {@code local_delivery_before_ack} (a Postern option, default true): a small
 *                           message for local mailboxes only is written into them before the 250 after
 *                           DATA instead of into the spool (README: a departure from Exim)
 */
public record DeliverySettings(List<RouterConfig> routers, Map<String, SmtpTransportOptions> transports,
                               Map<String, PluginTransportOptions> pluginTransports,
                               RetryRules retryRules, int remoteMaxParallel, Duration queueRunInterval,
                               int receivedHeadersMax, List<Duration> delayWarning,
                               Duration ignoreBounceErrorsAfter, boolean localDeliveryBeforeAck) {

  /** True when the configuration has remote routers; without them, remote recipients wait. */
  public boolean routesRemote() {
    return routers != null && routers.stream().anyMatch(r -> r.driver() != RouterConfig.Driver.LOCAL);
  }

  /** True when local domains go to maildir (a local router is listed, or there is no routers list). */
  public boolean routesLocal() {
    return routers == null || routers.stream().anyMatch(r -> r.driver() == RouterConfig.Driver.LOCAL);
  }

  /** The port of the hosts a router finds for this transport (smtp or plugin). */
  public int transportPort(String transport) {
    SmtpTransportOptions smtp = transports.get(transport);
    return smtp != null ? smtp.port() : pluginTransports.get(transport).port();
  }

  static DeliverySettings parse(YamlSection main, String primaryHostname, Path base, Map<String, HostList> hostLists,
                                Map<String, DomainList> domainLists) throws ConfigException {
    List<org.postern.config.ClientAuthenticator> clients = ClientAuthenticator.parseAll(main.section("authenticators"));
    Map<String, SmtpTransportOptions> transports = new LinkedHashMap<>();
    Map<String, PluginTransportOptions> plugins = new LinkedHashMap<>();
    YamlSection transportSection = main.section("transports");
    if (transportSection != null) {
      for (String name : transportSection.keys()) {
        YamlSection t = transportSection.section(name);
        if (t == null) {
          throw transportSection.error(name, "expected { driver: smtp, ... } or { driver: plugin, address: ... }");
        }
        if (t.string("driver", "smtp").equals("plugin")) {
          plugins.put(name, PluginTransportOptions.parse(name, t));
        } else {
          transports.put(name, SmtpTransportOptions.parse(t, primaryHostname, base, hostLists::get, clients));
        }
      }
    }
    List<RouterConfig> routers = null;
    if (main.has("routers")) {
      routers = new ArrayList<>();
      List<String> names = new ArrayList<>();
      for (Node node : main.sequence("routers")) {
        YamlSection r = main.child("routers", node);
        routers.add(router(r, primaryHostname, domainLists, transports, plugins, names));
      }
      if (routers.isEmpty()) {
        throw main.error("routers", "no router listed");
      }
      routers = List.copyOf(routers);
    }
    RetryRules retry = RetryRules.parse(main);
    int parallel = main.integer("remote_max_parallel", 2, 1, 1000);
    Duration interval = main.duration("queue_run_interval", Duration.ofMinutes(5));
    if (interval.isZero()) {
      throw main.error("queue_run_interval", "must be longer than 0s");
    }
    int receivedMax = main.integer("received_headers_max", 30, 1, 10_000);
    return new DeliverySettings(routers, Map.copyOf(transports), Map.copyOf(plugins), retry, parallel, interval, receivedMax,
        delayWarning(main), main.duration("ignore_bounce_errors_after", Duration.ofDays(70)),
        main.bool("local_delivery_before_ack", true));
  }

  /** {@code delay_warning: 4h:8h:24h} (Exim's syntax), each time later than the one before; 0 turns it off. */
  private static List<Duration> delayWarning(YamlSection main) throws ConfigException {
    String spec = main.string("delay_warning", "24h").strip();
    if (spec.equals("0") || spec.equals("0s")) {
      return List.of();
    }
    List<Duration> times = new ArrayList<>();
    for (String item : spec.split(":")) {
      Duration d;
      try {
        d = EximTime.parse(item);
      } catch (IllegalArgumentException e) {
        throw main.error("delay_warning", e.getMessage());
      }
      if (d.isZero() || (!times.isEmpty() && d.compareTo(times.get(times.size() - 1)) <= 0)) {
        throw main.error("delay_warning", "each time must be longer than 0 and than the one before (e.g. 4h:8h:24h)");
      }
      times.add(d);
    }
    return List.copyOf(times);
  }

  private static RouterConfig router(YamlSection r, String primaryHostname, Map<String, DomainList> domainLists,
                                     Map<String, SmtpTransportOptions> transports,
                                     Map<String, PluginTransportOptions> plugins, List<String> names)
      throws ConfigException {
    String name = r.string("name", null);
    if (name == null || !name.matches("[A-Za-z0-9_-]+")) {
      throw r.error("name", "each router needs a name (letters, digits, _ and -)");
    }
    if (names.contains(name)) {
      throw r.error("name", "two routers are named \"" + name + "\"");
    }
    names.add(name);
    String driverName = r.string("driver", null);
    RouterConfig.Driver driver;
    try {
      driver = RouterConfig.Driver.valueOf(String.valueOf(driverName).toUpperCase(java.util.Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw r.error("driver", "expected local, manualroute, dnslookup or accept, got "
          + (driverName == null ? "nothing" : "\"" + driverName + "\""));
    }
    DomainList domains = null;
    String domainSpec = r.string("domains", null);
    if (domainSpec != null) {
      try {
        domains = DomainList.parse(domainSpec, primaryHostname, domainLists::get);
      } catch (IllegalArgumentException e) {
        throw r.error("domains", e.getMessage());
      }
    }
    String transport = r.string("transport", null);
    List<RouterConfig.Route> routes = List.of();
    if (driver == RouterConfig.Driver.LOCAL) {
      if (transport != null) {
        throw r.error("transport", "the local router delivers to maildir; it takes no transport");
      }
    } else {
      if (transport == null) {
        throw r.error("transport", "a " + driverName + " router needs a transport");
      }
      if (!transports.containsKey(transport) && !plugins.containsKey(transport)) {
        throw r.error("transport", "no transport named \"" + transport + "\" in transports");
      }
      if (driver == RouterConfig.Driver.ACCEPT && !plugins.containsKey(transport)) {
        throw r.error("transport", "an accept router finds no hosts: its transport must be a plugin transport"
            + " (driver: plugin)");
      }
    }
    if (driver == RouterConfig.Driver.MANUALROUTE) {
      String list = r.string("route_list", null);
      if (list == null) {
        throw r.error("route_list", "a manualroute router needs a route_list");
      }
      try {
        routes = RouterConfig.parseRouteList(list, primaryHostname, domainLists);
      } catch (IllegalArgumentException e) {
        throw r.error("route_list", e.getMessage());
      }
    }
    r.rejectUnknown();
    return new RouterConfig(name, driver, domains, transport, routes);
  }
}
