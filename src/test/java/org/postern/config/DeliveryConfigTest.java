package org.postern.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** routers, transports, retry and the queue runner's options: defaults, a full example, and each refusal. */
class DeliveryConfigTest {
  private static final String BASE = String.join("\n",
      "primary_hostname: mx.test.example",
      "domainlist:",
      "  local_domains: \"localhost : @ : test.example\"",
      "");
  private static final String ROUTERS = String.join("\n",
      "routers:",
      "  - name: local_user",
      "    driver: local",
      "  - name: smarthost",
      "    driver: manualroute",
      "    domains: \"!+local_domains\"",
      "    route_list: \"*.partner.example 192.0.2.7 ; * smtp.example.net::587 : [2001:db8::1]::2525 : 192.0.2.8\"",
      "    transport: remote_smtp",
      "  - name: dnslookup",
      "    driver: dnslookup",
      "    domains: \"!+local_domains\"",
      "    transport: remote_smtp",
      "");
  private static final String TRANSPORTS = String.join("\n",
      "transports:",
      "  remote_smtp:",
      "    driver: smtp",
      "    hosts_require_tls: \"*\"",
      "");

  @TempDir
  Path dir;

  private Path conf(String postern) throws Exception {
    Files.writeString(dir.resolve("acl.yaml"), "", StandardCharsets.UTF_8);
    Path main = dir.resolve("postern.yaml");
    Files.writeString(main, postern, StandardCharsets.UTF_8);
    return main;
  }

  private DeliverySettings load(String postern) throws Exception {
    return ConfigLoader.load(conf(postern)).delivery();
  }

  private ConfigException refused(String postern, int line, String option, String reasonPart) throws Exception {
    Path main = conf(postern);
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(main));
    assertTrue(e.file().endsWith("postern.yaml"), e.getMessage());
    assertEquals(line, e.line(), e.getMessage());
    assertEquals(option, e.option(), e.getMessage());
    assertTrue(e.getMessage().contains(reasonPart), e.getMessage());
    return e;
  }

  @Test
  void withoutTheSectionsOnlyLocalDeliveryHappens() throws Exception {
    DeliverySettings d = load(BASE);
    assertNull(d.routers());
    assertTrue(d.routesLocal());
    assertFalse(d.routesRemote());
    assertEquals(2, d.remoteMaxParallel());
    assertEquals(Duration.ofMinutes(5), d.queueRunInterval());
    assertEquals(30, d.receivedHeadersMax());
    assertTrue(d.transports().isEmpty());
    assertEquals(1, d.retryRules().rules().size());
  }

  @Test
  void routersKeepTheirOrderAndRoutes() throws Exception {
    DeliverySettings d = load(BASE + ROUTERS + TRANSPORTS + "remote_max_parallel: 5\nqueue_run_interval: 30s\n"
        + "received_headers_max: 50\nretry: \"* * F,1h,10m\"\n");
    assertEquals(List.of("local_user", "smarthost", "dnslookup"), d.routers().stream().map(RouterConfig::name).toList());
    assertEquals(List.of(RouterConfig.Driver.LOCAL, RouterConfig.Driver.MANUALROUTE, RouterConfig.Driver.DNSLOOKUP),
        d.routers().stream().map(RouterConfig::driver).toList());
    RouterConfig smarthost = d.routers().get(1);
    assertEquals("remote_smtp", smarthost.transport());
    assertEquals(List.of(new RouterConfig.RouteHost("192.0.2.7", -1)), smarthost.routeFor("a.partner.example").hosts());
    assertEquals(List.of(new RouterConfig.RouteHost("smtp.example.net", 587),
            new RouterConfig.RouteHost("2001:db8::1", 2525), new RouterConfig.RouteHost("192.0.2.8", -1)),
        smarthost.routeFor("elsewhere.example").hosts());
    assertTrue(smarthost.considers("elsewhere.example", null));
    assertFalse(smarthost.considers("test.example", null));
    assertTrue(d.routesRemote());
    assertTrue(d.transports().get("remote_smtp").hostsRequireTls().matches("192.0.2.1", null));
    assertEquals(5, d.remoteMaxParallel());
    assertEquals(Duration.ofSeconds(30), d.queueRunInterval());
    assertEquals(50, d.receivedHeadersMax());
  }

  @Test
  void anUnknownDriverIsRefused() throws Exception {
    refused(BASE + "routers:\n  - name: x\n    driver: redirect\n", 6, "routers.driver",
        "expected local, manualroute, dnslookup or accept, got \"redirect\"");
  }

  @Test
  void aRemoteRouterNeedsAKnownTransport() throws Exception {
    refused(BASE + "routers:\n  - name: x\n    driver: dnslookup\n", 5, "routers.transport", "needs a transport");
    refused(BASE + TRANSPORTS + "routers:\n  - name: x\n    driver: dnslookup\n    transport: nope\n", 11,
        "routers.transport", "no transport named \"nope\"");
  }

  @Test
  void theLocalRouterTakesNoTransport() throws Exception {
    refused(BASE + TRANSPORTS + "routers:\n  - name: x\n    driver: local\n    transport: remote_smtp\n", 11,
        "routers.transport", "takes no transport");
  }

  @Test
  void routerNamesAreRequiredAndUnique() throws Exception {
    refused(BASE + "routers:\n  - driver: local\n", 5, "routers.name", "needs a name");
    refused(BASE + "routers:\n  - name: a\n    driver: local\n  - name: a\n    driver: local\n", 7, "routers.name",
        "two routers are named \"a\"");
  }

  @Test
  void anEmptyRouterListIsRefused() throws Exception {
    refused(BASE + "routers: []\n", 4, "routers", "no router listed");
  }

  @Test
  void routeListMistakesAreRefused() throws Exception {
    String head = BASE + TRANSPORTS + "routers:\n  - name: s\n    driver: manualroute\n    transport: remote_smtp\n";
    refused(head, 9, "routers.route_list", "needs a route_list");
    refused(head + "    route_list: \"* smtp.example.net::99999\"\n", 12, "routers.route_list",
        "bad port \"99999\"");
    refused(head + "    route_list: \"* smtp.example.net::x\"\n", 12, "routers.route_list", "bad port \"x\"");
    refused(head + "    route_list: \"*\"\n", 12, "routers.route_list", "has no host list");
    refused(head + "    route_list: \"* a.example byname\"\n", 12, "routers.route_list",
        "unsupported route option \"byname\"");
    refused(head + "    route_list: \"* [not-an-ip]\"\n", 12, "routers.route_list",
        "not an IP address in brackets");
    refused(head + "    route_list: \"* bad_host!\"\n", 12, "routers.route_list", "not a host name or IP address");
    refused(head + "    route_list: \" ; \"\n", 12, "routers.route_list", "empty route_list");
  }

  @Test
  void unknownRouterOptionsAreRefused() throws Exception {
    refused(BASE + "routers:\n  - name: l\n    driver: local\n    self: send\n", 7, "routers.self", "unknown option");
  }

  @Test
  void transportMistakesNameTheTransport() throws Exception {
    refused(BASE + "transports:\n  remote_smtp:\n    driver: smtp\n    max_rcpt: 0\n", 7,
        "transports.remote_smtp.max_rcpt", "must be between 1 and 100000");
    refused(BASE + "transports:\n  remote_smtp:\n    driver: lmtp\n", 6, "transports.remote_smtp.driver",
        "expected smtp");
    refused(BASE + "transports:\n  remote_smtp: smtp\n", 5, "transports.remote_smtp", "expected a mapping");
  }

  @Test
  void queueOptionsAreChecked() throws Exception {
    refused(BASE + "remote_max_parallel: 0\n", 4, "remote_max_parallel", "must be between 1 and 1000");
    refused(BASE + "queue_run_interval: 0s\n", 4, "queue_run_interval", "must be longer than 0s");
    refused(BASE + "received_headers_max: many\n", 4, "received_headers_max", "not a number");
    refused(BASE + "retry: \"* nonsense F,1h,5m\"\n", 4, "retry", "unknown error \"nonsense\"");
    refused(BASE + "delay_warning: soon\n", 4, "delay_warning", "not a time");
    refused(BASE + "delay_warning: \"8h:4h\"\n", 4, "delay_warning", "longer than 0 and than the one before");
  }

  @Test
  void delayWarningTimes() throws Exception {
    assertEquals(List.of(java.time.Duration.ofHours(24)), load(BASE).delayWarning());
    assertEquals(List.of(java.time.Duration.ofHours(4), java.time.Duration.ofHours(8), java.time.Duration.ofDays(1)),
        load(BASE + "delay_warning: \"4h:8h:24h\"\n").delayWarning());
    assertEquals(List.of(), load(BASE + "delay_warning: 0\n").delayWarning());
  }

  @Test
  void aPluginTransportHasAnAddressATimeoutAndAPort() throws Exception {
    DeliverySettings d = load(BASE + "transports:\n  archive:\n    driver: plugin\n  webhook:\n    driver: plugin\n"
        + "    address: example.webhook\n    timeout: 30s\n    port: 2525\n"
        + "routers:\n  - name: all\n    driver: accept\n    transport: webhook\n");
    assertEquals(new PluginTransportOptions("archive", "postern.deliver.archive", Duration.ofMinutes(5), 25),
        d.pluginTransports().get("archive"));
    assertEquals(new PluginTransportOptions("webhook", "example.webhook", Duration.ofSeconds(30), 2525),
        d.pluginTransports().get("webhook"));
    assertTrue(d.transports().isEmpty());
    assertEquals(RouterConfig.Driver.ACCEPT, d.routers().get(0).driver());
    assertTrue(d.routesRemote());
    assertEquals(2525, d.transportPort("webhook"));
  }

  @Test
  void pluginTransportMistakesAreRefused() throws Exception {
    refused(BASE + "transports:\n  webhook:\n    driver: plugin\n    timeout: 0s\n", 7,
        "transports.webhook.timeout", "longer than 0s");
    refused(BASE + "transports:\n  webhook:\n    driver: plugin\n    address: \"a b\"\n", 7,
        "transports.webhook.address", "without blanks");
    refused(BASE + "transports:\n  webhook:\n    driver: plugin\n    hosts_require_tls: \"*\"\n", 7,
        "transports.webhook.hosts_require_tls", "unknown option");
    // An accept router has no hosts to give an smtp transport.
    refused(BASE + TRANSPORTS + "routers:\n  - name: x\n    driver: accept\n    transport: remote_smtp\n", 11,
        "routers.transport", "must be a plugin transport");
  }
}
