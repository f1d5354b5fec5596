package org.postern.policy;

import org.postern.bus.AclVerdict;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.postern.bus.AclStage;
import org.postern.config.ConfigLoader;
import org.postern.config.PosternConfig;

/**
 * The ACL engine as a pure function: configurations parsed from strings with
 * {@link ConfigLoader#parse}, verdicts computed from a variables object.
 */
class AclEngineTest {

  private static final Path CONFIG_FILE = Path.of("/postern-acl-test/conf/postern.yaml").toAbsolutePath();

  private static final String MAIN = String.join("\n",
      "primary_hostname: mx.test.example",
      "domainlist:",
      "  local_domains: \"localhost : @ : test.example\"",
      "");

  private static final String PASSWD = "admin:\nalice:{PLAIN}alice-secret\n";

  private static String shipped(String name) throws Exception {
    return Files.readString(Path.of("conf", name), StandardCharsets.UTF_8);
  }

  private static PosternConfig config(String main, String acl) throws Exception {
    return config(main, acl, PASSWD, "postmaster: admin\n");
  }

  private static PosternConfig config(String main, String acl, String passwd, String aliases) throws Exception {
    List<Path> files = ConfigLoader.files(CONFIG_FILE);
    Map<Path, String> texts = new LinkedHashMap<>();
    texts.put(files.get(0), main);
    texts.put(files.get(1), acl);
    texts.put(files.get(2), passwd);
    texts.put(files.get(3), aliases);
    return ConfigLoader.parse(CONFIG_FILE, texts);
  }

  /** The shipped acl.yaml and aliases with test.example local and alice a user. */
  private static PosternConfig shippedPolicy() throws Exception {
    return config(MAIN, shipped("acl.yaml"), PASSWD, shipped("aliases"));
  }

  /** A config whose rcpt ACL is the given rules (YAML list items, one per string). */
  private static PosternConfig rcptAcl(String... rules) throws Exception {
    return rcptAclWith(MAIN, rules);
  }

  private static PosternConfig rcptAclWith(String main, String... rules) throws Exception {
    StringBuilder sb = new StringBuilder("acl_check_rcpt:\n");
    for (String r : rules) {
      sb.append("  ").append(r).append('\n');
    }
    return config(main, sb.toString());
  }

  private static JsonObject rcpt(String host, String localPart, String domain) {
    return new JsonObject().put("sender_host_address", host).put("local_part", localPart).put("domain", domain);
  }

  private static JsonObject from(String host) {
    return rcpt(host, "alice", "test.example");
  }

  private static AclVerdict eval(PosternConfig c, AclStage stage, JsonObject vars) throws Exception {
    return AclEngine.evaluate(stage, vars, c).toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
  }

  private static AclVerdict rcptVerdict(PosternConfig c, JsonObject vars) throws Exception {
    return eval(c, AclStage.RCPT, vars);
  }

  // --- the shipped rcpt policy ----------------------------------------------------------------

  @Test
  void shippedPolicyLocalDomainKnownUserAccepted() throws Exception {
    PosternConfig c = shippedPolicy();
    AclVerdict v = rcptVerdict(c, rcpt("192.0.2.1", "alice", "test.example"));
    assertEquals(AclVerdict.Type.ACCEPT, v.type(), v.toString());
    assertTrue(v.accepted());
    assertEquals(AclVerdict.Type.ACCEPT, rcptVerdict(c, rcpt("192.0.2.1", "ALICE", "Test.Example")).type());
    assertEquals(AclVerdict.Type.ACCEPT, rcptVerdict(c, rcpt("192.0.2.1", "admin", "localhost")).type());
    assertEquals(AclVerdict.Type.ACCEPT, rcptVerdict(c, rcpt("192.0.2.1", "alice", "mx.test.example")).type());
  }

  @Test
  void shippedPolicyAliasAccepted() throws Exception {
    AclVerdict v = rcptVerdict(shippedPolicy(), rcpt("192.0.2.1", "postmaster", "test.example"));
    assertEquals(AclVerdict.Type.ACCEPT, v.type(), v.toString());
  }

  @Test
  void shippedPolicyUnknownLocalUserDenied550511() throws Exception {
    PosternConfig c = shippedPolicy();
    for (String host : List.of("192.0.2.1", "127.0.0.1", "")) {
      AclVerdict v = rcptVerdict(c, rcpt(host, "bob", "test.example"));
      assertEquals(AclVerdict.Type.DENY, v.type(), host + ": " + v);
      assertEquals(Integer.valueOf(550), v.code(), v.toString());
      assertEquals("5.1.1", v.enhanced(), v.toString());
      assertTrue(v.message() != null && v.message().contains("bob@test.example"), v.toString());
    }
    AclVerdict auth = rcptVerdict(c, rcpt("192.0.2.1", "bob", "test.example").put("authenticated_id", "alice"));
    assertEquals(AclVerdict.Type.DENY, auth.type(), "verify=recipient comes before the authenticated accept");
    assertEquals("5.1.1", auth.enhanced());
  }

  @Test
  void shippedPolicyRemoteDomainFromOutsideIsRelayDenied() throws Exception {
    AclVerdict v = rcptVerdict(shippedPolicy(), rcpt("192.0.2.1", "x", "remote.example"));
    assertEquals(AclVerdict.Type.DENY, v.type(), v.toString());
    assertEquals("relay not permitted", v.message());
    assertNull(v.code(), "no code override: the session applies 550 5.7.1");
    assertFalse(v.accepted());
  }

  @ParameterizedTest
  @ValueSource(strings = {"127.0.0.2", "10.0.0.1", "2001:db8::1", "::ffff:192.0.2.1"})
  void shippedPolicyRemoteDomainFromOtherHostsDenied(String host) throws Exception {
    AclVerdict v = rcptVerdict(shippedPolicy(), rcpt(host, "x", "remote.example"));
    assertEquals(AclVerdict.Type.DENY, v.type(), v.toString());
    assertEquals("relay not permitted", v.message());
  }

  @ParameterizedTest
  @ValueSource(strings = {"127.0.0.1", "::1", "::ffff:127.0.0.1"})
  void shippedPolicyRemoteDomainFromRelayHostAccepted(String host) throws Exception {
    AclVerdict v = rcptVerdict(shippedPolicy(), rcpt(host, "x", "remote.example"));
    assertEquals(AclVerdict.Type.ACCEPT, v.type(), v.toString());
  }

  @Test
  void shippedPolicyAuthenticatedClientMayRelay() throws Exception {
    PosternConfig c = shippedPolicy();
    AclVerdict v = rcptVerdict(c, rcpt("192.0.2.1", "x", "remote.example").put("authenticated_id", "alice"));
    assertEquals(AclVerdict.Type.ACCEPT, v.type(), v.toString());
    AclVerdict empty = rcptVerdict(c, rcpt("192.0.2.1", "x", "remote.example").put("authenticated_id", ""));
    assertEquals(AclVerdict.Type.DENY, empty.type(), "an empty authenticated_id is not authenticated");
  }

  @Test
  void shippedPolicyLocalSubmissionMayRelay() throws Exception {
    PosternConfig c = shippedPolicy();
    assertEquals(AclVerdict.Type.ACCEPT, rcptVerdict(c, rcpt("", "x", "remote.example")).type());
    JsonObject noAddress = new JsonObject().put("local_part", "x").put("domain", "remote.example");
    assertEquals(AclVerdict.Type.ACCEPT, rcptVerdict(c, noAddress).type(), "absent address = local submission");
  }

  @Test
  void shippedExpnAndEtrn() throws Exception {
    PosternConfig c = config(MAIN + "acl_smtp_etrn: acl_check_etrn\n", shipped("acl.yaml"));
    assertEquals(AclVerdict.Type.ACCEPT, eval(c, AclStage.EXPN, from("127.0.0.9")).type());
    assertEquals(AclVerdict.Type.ACCEPT, eval(c, AclStage.EXPN, from("::1")).type());
    AclVerdict denied = eval(c, AclStage.EXPN, from("192.0.2.1"));
    assertEquals(AclVerdict.Type.DENY, denied.type());
    assertEquals("Administrative prohibition", denied.message());
    assertEquals(AclVerdict.Type.ACCEPT, eval(c, AclStage.ETRN, from("127.0.0.1")).type());
    assertEquals(AclVerdict.Type.DENY, eval(c, AclStage.ETRN, from("127.0.0.2")).type());
  }

  // --- stages without an ACL ------------------------------------------------------------------

  @ParameterizedTest
  @EnumSource(value = AclStage.class, names = {"CONNECT", "HELO", "MAIL", "PREDATA", "DATA", "QUIT", "NOTQUIT"})
  void stagesWithoutAclAccept(AclStage stage) throws Exception {
    PosternConfig c = config(MAIN, "");
    assertNull(c.aclForStage(stage));
    assertEquals(AclVerdict.Type.ACCEPT, eval(c, stage, from("192.0.2.1")).type());
  }

  @ParameterizedTest
  @EnumSource(value = AclStage.class, names = {"RCPT", "VRFY", "EXPN", "ETRN"})
  void stagesWithoutAclDeny(AclStage stage) throws Exception {
    PosternConfig c = config(MAIN, "");
    assertNull(c.aclForStage(stage));
    assertEquals(AclVerdict.Type.DENY, eval(c, stage, from("127.0.0.1")).type());
  }

  @Test
  void aclForAnotherStage() throws Exception {
    PosternConfig c = config(MAIN + "acl_smtp_mail: check_mail\n",
        "check_mail:\n  - deny: { hosts: 192.0.2.0/24, message: go away }\n  - accept:\n");
    AclVerdict v = eval(c, AclStage.MAIL, from("192.0.2.9"));
    assertEquals(AclVerdict.Type.DENY, v.type());
    assertEquals("go away", v.message());
    assertEquals(AclVerdict.Type.ACCEPT, eval(c, AclStage.MAIL, from("198.51.100.1")).type());
  }

  // --- verbs ----------------------------------------------------------------------------------

  @Test
  void acceptVerb() throws Exception {
    PosternConfig c = rcptAcl("- accept: { hosts: 192.0.2.0/24 }");
    AclVerdict v = rcptVerdict(c, from("192.0.2.1"));
    assertEquals(AclVerdict.Type.ACCEPT, v.type());
    assertTrue(v.rule().contains("acl_check_rcpt") && v.rule().contains("line 2"), v.rule());
    assertEquals(AclVerdict.Type.DENY, rcptVerdict(c, from("192.0.3.1")).type());
  }

  @Test
  void unconditionalAccept() throws Exception {
    PosternConfig c = rcptAcl("- accept:");
    assertEquals(AclVerdict.Type.ACCEPT, rcptVerdict(c, from("203.0.113.1")).type());
    PosternConfig c2 = rcptAcl("- accept: {}");
    assertEquals(AclVerdict.Type.ACCEPT, rcptVerdict(c2, from("203.0.113.1")).type());
  }

  @Test
  void denyVerbWithMessage() throws Exception {
    PosternConfig c = rcptAcl(
        "- deny: { hosts: 192.0.2.1, message: you are blocked, log_message: blocked host }",
        "- accept:");
    AclVerdict v = rcptVerdict(c, from("192.0.2.1"));
    assertEquals(AclVerdict.Type.DENY, v.type());
    assertEquals("you are blocked", v.message());
    assertEquals("blocked host", v.logMessage());
    assertNull(v.code());
    assertEquals(AclVerdict.Type.ACCEPT, rcptVerdict(c, from("192.0.2.2")).type(), "deny not met: next rule");
  }

  @Test
  void deferVerb() throws Exception {
    PosternConfig c = rcptAcl("- defer: { domains: test.example, message: try later }", "- accept:");
    AclVerdict v = rcptVerdict(c, from("192.0.2.1"));
    assertEquals(AclVerdict.Type.DEFER, v.type());
    assertEquals("try later", v.message());
    assertFalse(v.accepted());
    assertEquals(AclVerdict.Type.ACCEPT, rcptVerdict(c, rcpt("192.0.2.1", "x", "other.example")).type());
  }

  @Test
  void discardVerb() throws Exception {
    PosternConfig c = rcptAcl("- discard: { hosts: 192.0.2.1 }", "- deny:");
    AclVerdict v = rcptVerdict(c, from("192.0.2.1"));
    assertEquals(AclVerdict.Type.DISCARD, v.type());
    assertTrue(v.accepted(), "discard looks like acceptance to the client");
    assertEquals(AclVerdict.Type.DENY, rcptVerdict(c, from("192.0.2.2")).type());
  }

  @Test
  void dropVerb() throws Exception {
    PosternConfig c = rcptAcl("- drop: { hosts: 192.0.2.1, message: goodbye }", "- accept:");
    AclVerdict v = rcptVerdict(c, from("192.0.2.1"));
    assertEquals(AclVerdict.Type.DROP, v.type());
    assertEquals("goodbye", v.message());
    assertFalse(v.accepted());
    assertEquals(AclVerdict.Type.ACCEPT, rcptVerdict(c, from("192.0.2.2")).type());
  }

  @Test
  void requireVerb() throws Exception {
    PosternConfig c = rcptAcl(
        "- require: { hosts: 192.0.2.0/24, message: only the documentation net }",
        "- accept: { domains: test.example }");
    AclVerdict failed = rcptVerdict(c, from("198.51.100.1"));
    assertEquals(AclVerdict.Type.DENY, failed.type(), "require not met -> deny");
    assertEquals("only the documentation net", failed.message());
    assertEquals(AclVerdict.Type.ACCEPT, rcptVerdict(c, from("192.0.2.1")).type(), "require met -> go on");
    AclVerdict metThenNoAccept = rcptVerdict(c, rcpt("192.0.2.1", "x", "other.example"));
    assertEquals(AclVerdict.Type.DENY, metThenNoAccept.type(), "require never accepts by itself");
  }

  @Test
  void warnVerbContinues() throws Exception {
    PosternConfig c = rcptAcl(
        "- warn: { hosts: 192.0.2.1, log_message: suspicious host }",
        "- warn: { hosts: 10.0.0.0/8 }",
        "- accept: { domains: test.example }");
    assertEquals(AclVerdict.Type.ACCEPT, rcptVerdict(c, from("192.0.2.1")).type(), "warn met: continues");
    assertEquals(AclVerdict.Type.ACCEPT, rcptVerdict(c, from("192.0.2.2")).type(), "warn not met: continues");
    PosternConfig onlyWarn = rcptAcl("- warn: { log_message: hello }");
    assertEquals(AclVerdict.Type.DENY, rcptVerdict(onlyWarn, from("192.0.2.1")).type(), "warn never ends an ACL");
  }

  @Test
  void implicitDenyAtEndOfAcl() throws Exception {
    PosternConfig c = rcptAcl("- accept: { hosts: 10.0.0.0/8 }", "- warn:");
    AclVerdict v = rcptVerdict(c, from("192.0.2.1"));
    assertEquals(AclVerdict.Type.DENY, v.type());
    assertNull(v.message());
    assertTrue(v.rule().contains("implicit deny"), v.rule());
    PosternConfig empty = config(MAIN, "acl_check_rcpt: []\n");
    assertEquals(AclVerdict.Type.DENY, rcptVerdict(empty, from("127.0.0.1")).type(), "an empty ACL denies");
  }

  @Test
  void firstMatchingRuleWins() throws Exception {
    PosternConfig c = rcptAcl("- deny: { hosts: 192.0.2.1 }", "- accept: { hosts: 192.0.2.0/24 }",
        "- deny: { message: never reached for 192.0.2.x }");
    assertEquals(AclVerdict.Type.DENY, rcptVerdict(c, from("192.0.2.1")).type());
    assertEquals(AclVerdict.Type.ACCEPT, rcptVerdict(c, from("192.0.2.2")).type());
  }

  @Test
  void allConditionsOfARuleMustHold() throws Exception {
    PosternConfig c = rcptAcl("- accept: { hosts: 192.0.2.0/24, domains: test.example, authenticated: \"*\" }");
    assertEquals(AclVerdict.Type.ACCEPT,
        rcptVerdict(c, from("192.0.2.1").put("authenticated_id", "alice")).type());
    assertEquals(AclVerdict.Type.DENY, rcptVerdict(c, from("192.0.2.1")).type());
    assertEquals(AclVerdict.Type.DENY,
        rcptVerdict(c, rcpt("192.0.2.1", "x", "remote.example").put("authenticated_id", "alice")).type());
    assertEquals(AclVerdict.Type.DENY,
        rcptVerdict(c, from("198.51.100.1").put("authenticated_id", "alice")).type());
  }

  @Test
  void negatedHosts() throws Exception {
    PosternConfig c = rcptAcl("- deny: { \"!hosts\": 192.0.2.0/24, message: outsiders not welcome }", "- accept:");
    AclVerdict out = rcptVerdict(c, from("198.51.100.1"));
    assertEquals(AclVerdict.Type.DENY, out.type());
    assertEquals("outsiders not welcome", out.message());
    assertEquals(AclVerdict.Type.ACCEPT, rcptVerdict(c, from("192.0.2.77")).type());
  }

  @Test
  void negatedDomainsAndAuthenticated() throws Exception {
    PosternConfig c = rcptAcl(
        "- accept: { \"!domains\": +local_domains, authenticated: \"*\" }",
        "- deny: { \"!authenticated\": \"*\", \"!domains\": +local_domains, message: relay not permitted }",
        "- accept:");
    assertEquals(AclVerdict.Type.ACCEPT,
        rcptVerdict(c, rcpt("192.0.2.1", "x", "remote.example").put("authenticated_id", "bob")).type());
    assertEquals(AclVerdict.Type.DENY, rcptVerdict(c, rcpt("192.0.2.1", "x", "remote.example")).type());
    assertEquals(AclVerdict.Type.ACCEPT, rcptVerdict(c, rcpt("192.0.2.1", "x", "test.example")).type());
  }

  @Test
  void negatedVerify() throws Exception {
    PosternConfig c = rcptAcl("- deny: { \"!verify\": recipient, message: no such user here }", "- accept:");
    AclVerdict v = rcptVerdict(c, rcpt("192.0.2.1", "ghost", "test.example"));
    assertEquals(AclVerdict.Type.DENY, v.type());
    assertEquals("no such user here", v.message(), "the rule's own message wins over verify's");
    assertEquals(AclVerdict.Type.ACCEPT, rcptVerdict(c, from("192.0.2.1")).type());
  }

  @Test
  void namedHostListRelayFromHosts() throws Exception {
    PosternConfig c = rcptAcl("- accept: { hosts: +relay_from_hosts }");
    assertEquals(AclVerdict.Type.ACCEPT, rcptVerdict(c, from("127.0.0.1")).type());
    assertEquals(AclVerdict.Type.ACCEPT, rcptVerdict(c, from("::1")).type());
    assertEquals(AclVerdict.Type.DENY, rcptVerdict(c, from("127.0.0.2")).type());

    PosternConfig custom = rcptAclWith(MAIN + "hostlist:\n  relay_from_hosts: 192.0.2.0/24\n  trusted: 198.51.100.7\n",
        "- accept: { hosts: +relay_from_hosts }", "- accept: { hosts: +trusted }");
    assertEquals(AclVerdict.Type.ACCEPT, rcptVerdict(custom, from("192.0.2.200")).type());
    assertEquals(AclVerdict.Type.ACCEPT, rcptVerdict(custom, from("198.51.100.7")).type());
    assertEquals(AclVerdict.Type.DENY, rcptVerdict(custom, from("127.0.0.1")).type());
  }

  @Test
  void namedDomainListLocalDomains() throws Exception {
    PosternConfig c = rcptAcl("- accept: { domains: +local_domains }");
    for (String d : List.of("test.example", "TEST.EXAMPLE", "localhost", "mx.test.example")) {
      assertEquals(AclVerdict.Type.ACCEPT, rcptVerdict(c, rcpt("192.0.2.1", "x", d)).type(), d);
    }
    for (String d : List.of("remote.example", "sub.test.example", "example")) {
      assertEquals(AclVerdict.Type.DENY, rcptVerdict(c, rcpt("192.0.2.1", "x", d)).type(), d);
    }
  }

  @Test
  void ipv6CidrAsSequenceAndWithSeparator() throws Exception {
    List<PosternConfig> configs = new ArrayList<>();
    configs.add(rcptAcl("- accept: { hosts: [ \"2001:db8::/32\" ] }"));
    configs.add(rcptAcl("- accept: { hosts: \"<; 2001:db8::/32\" }"));
    configs.add(rcptAcl("- accept:", "    hosts:", "      - 2001:db8::/32"));
    for (PosternConfig c : configs) {
      assertEquals(AclVerdict.Type.ACCEPT, rcptVerdict(c, from("2001:db8::1")).type());
      assertEquals(AclVerdict.Type.ACCEPT, rcptVerdict(c, from("2001:0db8:ffff:1::25")).type());
      assertEquals(AclVerdict.Type.ACCEPT, rcptVerdict(c, from("[2001:DB8::1]")).type());
      assertEquals(AclVerdict.Type.DENY, rcptVerdict(c, from("2001:db9::1")).type());
      assertEquals(AclVerdict.Type.DENY, rcptVerdict(c, from("192.0.2.1")).type());
      assertEquals(AclVerdict.Type.DENY, rcptVerdict(c, from("")).type());
    }
  }

  @Test
  void localSubmissionMatchesOnlyEmptyItemAndStar() throws Exception {
    PosternConfig c = rcptAcl("- accept: { hosts: \":\" }");
    assertEquals(AclVerdict.Type.ACCEPT, rcptVerdict(c, from("")).type());
    assertEquals(AclVerdict.Type.DENY, rcptVerdict(c, from("127.0.0.1")).type());
    PosternConfig star = rcptAcl("- accept: { hosts: \"*\" }");
    assertEquals(AclVerdict.Type.ACCEPT, rcptVerdict(star, from("")).type());
    assertEquals(AclVerdict.Type.ACCEPT, rcptVerdict(star, from("203.0.113.9")).type());
  }

  @Test
  void authenticatedPatterns() throws Exception {
    PosternConfig c = rcptAcl("- accept: { authenticated: \"alice : *@partner.example\" }");
    assertEquals(AclVerdict.Type.ACCEPT, rcptVerdict(c, from("192.0.2.1").put("authenticated_id", "Alice")).type());
    assertEquals(AclVerdict.Type.ACCEPT,
        rcptVerdict(c, from("192.0.2.1").put("authenticated_id", "bob@Partner.Example")).type());
    assertEquals(AclVerdict.Type.DENY, rcptVerdict(c, from("192.0.2.1").put("authenticated_id", "bob")).type());
    assertEquals(AclVerdict.Type.DENY, rcptVerdict(c, from("192.0.2.1")).type());
  }

  @Test
  void verifyRecipientLeavesRemoteDomainsAlone() throws Exception {
    PosternConfig c = rcptAcl("- require: { verify: recipient }", "- accept:");
    assertEquals(AclVerdict.Type.ACCEPT, rcptVerdict(c, rcpt("192.0.2.1", "anyone", "remote.example")).type());
    AclVerdict v = rcptVerdict(c, rcpt("192.0.2.1", "ghost", "localhost"));
    assertEquals(AclVerdict.Type.DENY, v.type());
    assertEquals(Integer.valueOf(550), v.code());
    assertEquals("5.1.1", v.enhanced());
  }

  @Test
  void traceReportsEachStep() throws Exception {
    PosternConfig c = rcptAcl("- deny: { hosts: 192.0.2.1 }", "- accept:");
    List<String> trace = new ArrayList<>();
    AclVerdict v = AclEngine.evaluate(AclStage.RCPT, from("192.0.2.2"), c, trace::add)
        .toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    assertEquals(AclVerdict.Type.ACCEPT, v.type());
    assertTrue(trace.stream().anyMatch(l -> l.contains("hosts = 192.0.2.1") && l.contains("false")), trace.toString());
  }

  @Test
  void verdictJsonRoundTrip() throws Exception {
    AclVerdict v = rcptVerdict(shippedPolicy(), rcpt("192.0.2.1", "bob", "test.example"));
    AclVerdict back = AclVerdict.fromJson(v.toJson());
    assertEquals(v, back);
    assertEquals("deny", v.toJson().getString("verdict"));
  }
}
