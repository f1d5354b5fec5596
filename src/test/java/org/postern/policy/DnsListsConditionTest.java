package org.postern.policy;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.postern.bus.AclStage;
import org.postern.bus.AclVerdict;
import org.postern.config.ConfigException;
import org.postern.config.ConfigLoader;
import org.postern.config.PosternConfig;
import org.postern.testing.TestDnsServer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code dnslists} through the ACL engine, with a real Vert.x and {@link TestDnsServer} answering
 * over UDP: which lists match, what the {@code $dnslist_*} variables say, the query names asked,
 * deferral when DNS does not answer, and every refused spelling.
 */
class DnsListsConditionTest {
  private static final Path CONFIG_FILE = Path.of("/postern-dnsl-test/conf/postern.yaml").toAbsolutePath();
  private static final String MESSAGE =
      "message: \"$sender_host_address is listed at $dnslist_domain ($dnslist_value: $dnslist_text) [$dnslist_matched]\"";

  private Vertx vertx;
  private TestDnsServer dns;

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    dns = TestDnsServer.start(vertx);
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private PosternConfig rcptAcl(String... rules) throws ConfigException {
    StringBuilder acl = new StringBuilder("acl_check_rcpt:\n");
    for (String r : rules) {
      acl.append("  ").append(r).append('\n');
    }
    return config(acl.toString());
  }

  private PosternConfig config(String acl) throws ConfigException {
    List<Path> files = ConfigLoader.files(CONFIG_FILE);
    Map<Path, String> texts = new LinkedHashMap<>();
    texts.put(files.get(0), "primary_hostname: mx.test.example\n"
        + "dns_servers: \"" + dns.address() + "\"\ndns_timeout: 300ms\ndns_retry: 1\n");
    texts.put(files.get(1), acl);
    return ConfigLoader.parse(CONFIG_FILE, texts);
  }

  private AclVerdict check(PosternConfig config, JsonObject variables) throws Exception {
    return AclEngine.evaluate(AclStage.RCPT, variables, config, line -> { }, vertx)
        .toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  private AclVerdict check(PosternConfig config, String client) throws Exception {
    return check(config, new JsonObject().put("sender_host_address", client).put("local_part", "alice")
        .put("domain", "test.example"));
  }

  @Test
  void listedClientIsDeniedWithTheListsVariablesInTheMessage() throws Exception {
    dns.a("2.2.0.192.bl.test", "127.0.0.2").txt("2.2.0.192.bl.test", "see https://bl.test/192.0.2.2");
    AclVerdict v = check(rcptAcl("- deny: { dnslists: bl.test, " + MESSAGE + " }", "- accept:"), "192.0.2.2");
    assertEquals(AclVerdict.Type.DENY, v.type());
    assertEquals("192.0.2.2 is listed at bl.test (127.0.0.2: see https://bl.test/192.0.2.2) [192.0.2.2]", v.message());
    // The TXT record is asked only once the A record has listed the client.
    assertEquals(List.of("2.2.0.192.bl.test", "2.2.0.192.bl.test"), dns.queries());
  }

  @Test
  void listedWithoutATxtRecordLeavesTheTextEmpty() throws Exception {
    dns.a("2.2.0.192.bl.test", "127.0.0.2");
    AclVerdict v = check(rcptAcl("- deny: { dnslists: bl.test, " + MESSAGE + " }", "- accept:"), "192.0.2.2");
    assertEquals("192.0.2.2 is listed at bl.test (127.0.0.2: ) [192.0.2.2]", v.message());
  }

  @Test
  void unlistedClientGoesOnToTheNextRule() throws Exception {
    AclVerdict v = check(rcptAcl("- deny: { dnslists: bl.test }", "- accept: { message: fine }"), "192.0.2.3");
    assertEquals(AclVerdict.Type.ACCEPT, v.type());
    assertEquals("fine", v.message());
    assertEquals(List.of("3.2.0.192.bl.test"), dns.queries());
  }

  @Test
  void valueListsRestrictWhichRecordsCount() throws Exception {
    dns.a("2.2.0.192.bl.test", "127.0.0.2", "127.0.0.4");
    String[] tail = {"- accept: { message: not listed }"};
    assertEquals("not listed", check(rcptAcl("- deny: { dnslists: \"bl.test=127.0.0.3\", message: listed }", tail[0]),
        "192.0.2.2").message());
    assertEquals("listed 127.0.0.4", check(rcptAcl(
        "- deny: { dnslists: \"bl.test=127.0.0.9,127.0.0.4\", message: listed $dnslist_value }", tail[0]),
        "192.0.2.2").message());
    assertEquals("listed 127.0.0.2", check(rcptAcl(
        "- deny: { dnslists: \"bl.test=127.0.[0..255].[1..3]\", message: listed $dnslist_value }", tail[0]),
        "192.0.2.2").message());
    assertEquals("not listed", check(rcptAcl(
        "- deny: { dnslists: \"bl.test=127.1.[0..255].[1..3]\", message: listed $dnslist_value }", tail[0]),
        "192.0.2.2").message());
    // == wants every record among the values.
    assertEquals("listed", check(rcptAcl("- deny: { dnslists: \"bl.test==127.0.0.2,127.0.0.4\", message: listed }",
        tail[0]), "192.0.2.2").message());
    assertEquals("not listed", check(rcptAcl("- deny: { dnslists: \"bl.test==127.0.0.2\", message: listed }",
        tail[0]), "192.0.2.2").message());
  }

  @Test
  void negatedValueForms() throws Exception {
    dns.a("2.2.0.192.bl.test", "127.0.0.2", "127.0.0.4");
    String tail = "- accept: { message: not listed }";
    // != : true when no record is among the values.
    assertEquals("not listed", check(rcptAcl("- deny: { dnslists: \"bl.test!=127.0.0.2\", message: listed }", tail),
        "192.0.2.2").message());
    assertEquals("listed 127.0.0.2", check(rcptAcl(
        "- deny: { dnslists: \"bl.test!=127.0.0.3\", message: listed $dnslist_value }", tail), "192.0.2.2").message());
    // !== : true when not every record is among them.
    assertEquals("listed 127.0.0.4", check(rcptAcl(
        "- deny: { dnslists: \"bl.test!==127.0.0.2\", message: listed $dnslist_value }", tail), "192.0.2.2").message());
    assertEquals("not listed", check(rcptAcl(
        "- deny: { dnslists: \"bl.test!==127.0.0.2,127.0.0.4\", message: listed }", tail), "192.0.2.2").message());
    // A client the list does not know is not listed, negated value or not.
    assertEquals("not listed", check(rcptAcl("- deny: { dnslists: \"bl.test!=127.0.0.3\", message: listed }", tail),
        "192.0.2.7").message());
  }

  @Test
  void listsAreTriedInOrderAndTheFirstListingOneIsReported() throws Exception {
    dns.a("2.2.0.192.second.test", "127.0.0.10").a("2.2.0.192.third.test", "127.0.0.11");
    AclVerdict v = check(rcptAcl("- deny: { dnslists: \"first.test : second.test : third.test\","
        + " message: $dnslist_domain $dnslist_value }", "- accept:"), "192.0.2.2");
    assertEquals("second.test 127.0.0.10", v.message());
    assertEquals(List.of("2.2.0.192.first.test", "2.2.0.192.second.test", "2.2.0.192.second.test"), dns.queries());
  }

  @Test
  void yamlSequenceOfLists() throws Exception {
    dns.a("2.2.0.192.second.test", "127.0.0.2");
    AclVerdict v = check(config("acl_check_rcpt:\n  - deny:\n      dnslists:\n        - first.test\n"
        + "        - second.test=127.0.0.2\n      message: $dnslist_domain\n  - accept:\n"), "192.0.2.2");
    assertEquals("second.test", v.message());
  }

  @Test
  void ipv6ClientsAreLookedUpByReversedNibbles() throws Exception {
    String name = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.test";
    dns.a(name, "127.0.0.2");
    AclVerdict v = check(rcptAcl("- deny: { dnslists: bl.test, message: $dnslist_matched }", "- accept:"),
        "2001:db8::1");
    assertEquals(AclVerdict.Type.DENY, v.type());
    assertEquals("2001:db8::1", v.message());
    assertEquals(name, dns.queries().get(0));
    assertEquals(32 + 2, dns.queries().get(0).split("\\.").length);
  }

  @Test
  void ipv4MappedClientsAreLookedUpAsIpv4() throws Exception {
    check(rcptAcl("- deny: { dnslists: bl.test }", "- accept:"), "::ffff:192.0.2.5");
    assertEquals(List.of("5.2.0.192.bl.test"), dns.queries());
  }

  @Test
  void localMessagesAreNeverListedAndCauseNoLookup() throws Exception {
    PosternConfig c = rcptAcl("- deny: { dnslists: bl.test }", "- accept: { message: local }");
    assertEquals("local", check(c, new JsonObject().put("local_part", "alice").put("domain", "test.example")).message());
    assertEquals("local", check(c, "").message());
    assertEquals(List.of(), dns.queries());
  }

  @Test
  void negatedConditionAcceptsOnlyAllowListedClients() throws Exception {
    dns.a("2.2.0.192.allow.test", "127.0.0.2");
    PosternConfig c = rcptAcl("- deny: { \"!dnslists\": allow.test, message: not allow-listed }", "- accept:");
    assertEquals(AclVerdict.Type.ACCEPT, check(c, "192.0.2.2").type());
    AclVerdict denied = check(c, "192.0.2.3");
    assertEquals(AclVerdict.Type.DENY, denied.type());
    assertEquals("not allow-listed", denied.message());
  }

  @Test
  void keyedListsLookUpTheExpandedKey() throws Exception {
    dns.a("spam.example.dbl.test", "127.0.1.2");
    dns.a("9.2.0.192.bl.test", "127.0.0.2");
    PosternConfig c = rcptAcl("- deny: { dnslists: \"dbl.test/$sender_helo_name : bl.test/$acl_m_ip\","
        + " message: $dnslist_matched at $dnslist_domain }", "- accept: { message: clean }");
    assertEquals("spam.example at dbl.test", check(c, new JsonObject().put("sender_host_address", "192.0.2.2")
        .put("sender_helo_name", "spam.example")).message());
    // An IP address as key is reversed; a key that is no domain name (empty here) is not looked up.
    assertEquals("192.0.2.9 at bl.test", check(c, new JsonObject().put("sender_host_address", "192.0.2.2")
        .put("acl_m_ip", "192.0.2.9")).message());
    assertEquals(List.of("spam.example.dbl.test", "spam.example.dbl.test", "9.2.0.192.bl.test", "9.2.0.192.bl.test"),
        dns.queries());
  }

  @Test
  void aListThatDoesNotAnswerDefersTheRule() throws Exception {
    dns.silent("2.2.0.192.bl.test");
    AclVerdict v = check(rcptAcl("- deny: { dnslists: bl.test }", "- accept:"), "192.0.2.2");
    assertEquals(AclVerdict.Type.DEFER, v.type());
    assertEquals(List.of("2.2.0.192.bl.test"), dns.queries());
  }

  @Test
  void servfailDefersAnAcceptRuleToo() throws Exception {
    dns.servfail("2.2.0.192.wl.test");
    AclVerdict v = check(rcptAcl("- accept: { dnslists: wl.test }", "- deny:"), "192.0.2.2");
    assertEquals(AclVerdict.Type.DEFER, v.type());
  }

  @Test
  void warnRulesIgnoreADeferral() throws Exception {
    dns.silent("2.2.0.192.bl.test");
    AclVerdict v = check(rcptAcl("- warn: { dnslists: bl.test }", "- accept: { message: went on }"), "192.0.2.2");
    assertEquals(AclVerdict.Type.ACCEPT, v.type());
    assertEquals("went on", v.message());
  }

  @Test
  void unknownItemsChooseWhatAFailedLookupMeans() throws Exception {
    dns.silent("2.2.0.192.down.test").a("2.2.0.192.up.test", "127.0.0.2");
    AclVerdict skipped = check(rcptAcl("- deny: { dnslists: \"+exclude_unknown : down.test : up.test\","
        + " message: $dnslist_domain }", "- accept:"), "192.0.2.2");
    assertEquals("up.test", skipped.message());
    AclVerdict none = check(rcptAcl("- deny: { dnslists: \"+exclude_unknown : down.test\" }",
        "- accept: { message: passed }"), "192.0.2.2");
    assertEquals("passed", none.message());
    AclVerdict included = check(rcptAcl("- deny: { dnslists: \"down.test : up.test : +include_unknown\","
        + " message: \"$dnslist_domain [$dnslist_value]\" }", "- accept:"), "192.0.2.2");
    assertEquals("down.test []", included.message());
    AclVerdict deferred = check(rcptAcl("- deny: { dnslists: \"+defer_unknown : down.test : up.test\" }",
        "- accept:"), "192.0.2.2");
    assertEquals(AclVerdict.Type.DEFER, deferred.type());
  }

  @Test
  void withoutVertxTheConditionDefers() throws Exception {
    AclVerdict v = AclEngine.evaluate(AclStage.RCPT, new JsonObject().put("sender_host_address", "192.0.2.2"),
        rcptAcl("- deny: { dnslists: bl.test }", "- accept:")).toCompletionStage().toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
    assertEquals(AclVerdict.Type.DEFER, v.type());
    assertEquals(List.of(), dns.queries());
  }

  @Test
  void traceShowsTheConditionAndTheLookup() throws Exception {
    dns.a("2.2.0.192.bl.test", "127.0.0.2");
    List<String> trace = new ArrayList<>();
    AclEngine.evaluate(AclStage.RCPT, new JsonObject().put("sender_host_address", "192.0.2.2"),
        rcptAcl("- deny: { dnslists: \"bl.test=127.0.0.2\" }"), trace::add, vertx)
        .toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    assertTrue(trace.contains("  dnslists: 2.2.0.192.bl.test -> [127.0.0.2]"), trace.toString());
    assertTrue(trace.contains("  dnslists = bl.test=127.0.0.2 => true"), trace.toString());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "''|no DNS list domain given",
      "' : '|no DNS list domain given",
      "bl..test|not a DNS list domain: \"bl..test\"",
      "bl test|not a DNS list domain: \"bl test\"",
      "-bl.test|not a DNS list domain: \"-bl.test\"",
      "bl.test=|no address after = in \"bl.test=\"",
      "bl.test!=|no address after != in \"bl.test!=\"",
      "bl.test=127.0.0|\"127.0.0\" is not an IPv4 address or octet range pattern",
      "bl.test=127.0.0.256|\"127.0.0.256\" is not an IPv4 address or octet range pattern",
      "bl.test=127.0.0.2,,127.0.0.3|\"\" is not an IPv4 address or octet range pattern",
      "bl.test=127.0.[3..1].1|empty octet range [3..1] in \"127.0.[3..1].1\"",
      "bl.test=127.0.[1..].1|\"127.0.[1..].1\" is not an IPv4 address or octet range pattern",
      "bl.test=&0.0.0.2|bit mask forms (=& and !&) are not supported: \"bl.test=&0.0.0.2\"",
      "bl.test!&0.0.0.2|bit mask forms (=& and !&) are not supported: \"bl.test!&0.0.0.2\"",
      "bl.test=!127.0.0.2|\"!127.0.0.2\" is not an IPv4 address or octet range pattern",
      "+frobnicate_unknown : bl.test|unknown option \"+frobnicate_unknown\" (+defer_unknown, +exclude_unknown, +include_unknown)",
      "bl.test/|empty key after / in \"bl.test/\"",
  })
  void badSpecificationsAreRefusedAtLoad(String spec, String reason) {
    ConfigException e = assertThrows(ConfigException.class,
        () -> rcptAcl("- accept:", "- deny: { dnslists: \"" + spec + "\" }"));
    assertEquals(3, e.line(), e.getMessage());
    assertTrue(e.getMessage().endsWith("dnslists: " + reason), e.getMessage());
  }

  @Test
  void unknownVariablesInAKeyAreRefusedAtLoad() {
    ConfigException e = assertThrows(ConfigException.class,
        () -> rcptAcl("- deny: { dnslists: \"bl.test/$no_such_variable\" }"));
    assertEquals(2, e.line());
    assertTrue(e.getMessage().contains("dnslists: ") && e.getMessage().contains("no_such_variable"), e.getMessage());
  }

  @Test
  void dnslistVariablesAreKnownToExpansions() throws Exception {
    assertNull(AclEngine.evaluate(AclStage.RCPT, new JsonObject(), rcptAcl(
        "- accept: { message: \"$dnslist_domain$dnslist_value$dnslist_text$dnslist_matched\" }"))
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS).code());
  }
}
