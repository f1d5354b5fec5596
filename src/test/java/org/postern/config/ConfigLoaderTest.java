package org.postern.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.postern.bus.AclStage;

/**
 * ConfigLoader against real files in a temporary conf/ directory: the shipped configuration and
 * its defaults, every kind of mistake (refused with the right file, line and option), and the
 * value syntaxes (sizes, Exim times, bare_lf).
 */
class ConfigLoaderTest {

  private static final String SHIPPED_ACL = readShipped("acl.yaml");

  /** A small valid postern.yaml; tests append or replace lines. */
  private static final String BASE = String.join("\n",
      "# test configuration",
      "primary_hostname: mx.test.example",
      "domainlist:",
      "  local_domains: \"localhost : @ : test.example\"",
      "") ;

  @TempDir
  Path dir;

  private static String readShipped(String name) {
    try {
      return Files.readString(Path.of("conf", name), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException("run the tests from the project directory", e);
    }
  }

  private Path write(String name, String text) throws IOException {
    Path p = dir.resolve(name);
    Files.writeString(p, text, StandardCharsets.UTF_8);
    return p;
  }

  /** Writes postern.yaml, the shipped acl.yaml and a small passwd/aliases unless told otherwise. */
  private Path conf(String postern) throws IOException {
    return conf(postern, SHIPPED_ACL, "admin:\nalice:{PLAIN}secret\n", "postmaster: admin\n");
  }

  private Path conf(String postern, String acl, String passwd, String aliases) throws IOException {
    Path main = write("postern.yaml", postern);
    write("acl.yaml", acl);
    if (passwd != null) {
      write("passwd", passwd);
    }
    if (aliases != null) {
      write("aliases", aliases);
    }
    return main;
  }

  private PosternConfig load(String postern) throws Exception {
    return ConfigLoader.load(conf(postern));
  }

  private ConfigException refused(Path main) {
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(main));
    return e;
  }

  /** Asserts file, line and option, and that the message has the documented "file:line: option: reason" form. */
  private static void assertWhere(ConfigException e, String fileName, int line, String optionPart) {
    String msg = e.getMessage();
    assertTrue(e.file().endsWith(fileName), "file " + e.file() + " should be " + fileName + "; " + msg);
    assertEquals(line, e.line(), "line; " + msg);
    if (optionPart != null) {
      assertTrue(e.option() != null && e.option().contains(optionPart),
          "option " + e.option() + " should name " + optionPart + "; " + msg);
      assertTrue(msg.contains(optionPart), "message should name " + optionPart + ": " + msg);
      assertTrue(msg.startsWith(e.file() + ":" + line + ": " + e.option() + ": "),
          "message should read file:line: option: reason, got " + msg);
    } else {
      assertTrue(msg.startsWith(e.file() + ":" + line + ": "), "message should read file:line: ..., got " + msg);
    }
  }

  // --- the shipped configuration --------------------------------------------------------------

  @Test
  void shippedConfigurationLoadsWithDocumentedDefaults() throws Exception {
    try (Stream<Path> files = Files.list(Path.of("conf"))) {
      for (Path f : files.toList()) {
        Files.copy(f, dir.resolve(f.getFileName()));
      }
    }
    PosternConfig c = ConfigLoader.load(dir.resolve("postern.yaml"));

    assertEquals(List.of(new ListenerConfig("smtp", "127.0.0.1", 2525),
        new ListenerConfig("submission", "127.0.0.1", 2587), new ListenerConfig("smtps", "127.0.0.1", 2465)),
        c.listeners());
    assertEquals(java.util.Set.of(2465), c.tls().onConnectPorts());
    assertEquals(List.of("TLSv1.2", "TLSv1.3"), c.tls().protocols());
    assertTrue(c.tls().advertiseHosts().matches("192.0.2.1", null));
    assertEquals(52_428_800L, c.messageSizeLimit());
    assertEquals(Duration.ofMinutes(5), c.smtpReceiveTimeout());
    assertEquals(Duration.ofMinutes(30), c.smtpDataTimeout());
    assertEquals(new StorageChecks(10L << 20, 100, 10L << 20, 100), c.storage());
    assertEquals(50000, c.recipientsMax());
    assertEquals(3, c.smtpMaxUnknownCommands());
    assertEquals(3, c.smtpMaxSynprotErrors());
    assertEquals(10000, c.smtpAcceptMax());
    assertEquals(100, c.smtpAcceptMaxPerHost());
    assertTrue(c.smtpEnforceSync());
    assertEquals(BareLineEnds.REJECT, c.bareLineEnds());

    assertTrue(c.localDomains().matches("localhost"));
    assertTrue(c.localDomains().matches(c.primaryHostname()), "@ is the primary hostname " + c.primaryHostname());
    assertFalse(c.localDomains().matches("remote.example"));

    assertTrue(c.relayFromHosts().matches("127.0.0.1", null));
    assertTrue(c.relayFromHosts().matches("::1", null));
    assertFalse(c.relayFromHosts().matches("127.0.0.2", null));
    assertFalse(c.relayFromHosts().matches("192.0.2.1", null));

    assertEquals("acl_check_rcpt", c.aclForStage(AclStage.RCPT));
    assertEquals("acl_check_expn", c.aclForStage(AclStage.EXPN));
    assertEquals("acl_check_etrn", c.aclForStage(AclStage.ETRN));
    assertNull(c.aclForStage(AclStage.CONNECT));
    assertTrue(c.users().exists("admin"));
    assertTrue(c.users().exists("postmaster"));
    assertEquals(dir.resolve("../data/spool").normalize(), c.spoolDirectory());
    assertEquals(12, c.generation().length());

    // AUTH: no legacy CRAM-MD5, and the three failure windows.
    assertEquals(List.of("PLAIN", "LOGIN", "SCRAM-SHA-256"),
        c.auth().authenticators().stream().map(AuthenticatorConfig::publicName).toList());
    assertEquals(10, c.auth().failuresPerHost());
    assertEquals(30, c.auth().failuresPerNetwork());
    assertEquals(20, c.auth().failuresPerUser());
    assertEquals(Duration.ofMinutes(10), c.auth().failuresWindow());
  }

  @Test
  void embeddedAuthDefaultsMatchTheShippedOnes() throws Exception {
    PosternConfig c = load(BASE);
    assertEquals(List.of("PLAIN", "LOGIN", "SCRAM-SHA-256"),
        c.auth().authenticators().stream().map(AuthenticatorConfig::publicName).toList());
    assertEquals(30, c.auth().failuresPerNetwork());
    assertEquals(20, c.auth().failuresPerUser());
  }

  @Test
  void zeroAuthFailuresWindowIsRefused() throws Exception {
    ConfigException e = refused(conf(BASE + "auth_failures_window: 0s\n"));
    assertWhere(e, "postern.yaml", 5, "auth_failures_window");
  }

  @Test
  void chunkingAdvertiseHostsDefaultsToEveryHostAndABadListIsRefused() throws Exception {
    assertTrue(load(BASE).chunkingAdvertiseHosts().matches("192.0.2.1", null), "Exim's default: *");
    PosternConfig none = load(BASE + "chunking_advertise_hosts: \"\"\n");
    assertFalse(none.chunkingAdvertiseHosts().matches("192.0.2.1", null));
    ConfigException e = refused(conf(BASE + "chunking_advertise_hosts: +no_such_list\n"));
    assertWhere(e, "postern.yaml", 5, "chunking_advertise_hosts");
  }

  @Test
  void generationChangesWithAnyFileAndIsStableOtherwise() throws Exception {
    Path main = conf(BASE);
    String g1 = ConfigLoader.load(main).generation();
    assertEquals(g1, ConfigLoader.load(main).generation());
    write("passwd", "admin:\nalice:{PLAIN}secret\ncarol:{PLAIN}x\n");
    assertNotEquals(g1, ConfigLoader.load(main).generation());
  }

  @Test
  void missingPasswdAndAliasesCountAsEmpty() throws Exception {
    PosternConfig c = ConfigLoader.load(conf(BASE, SHIPPED_ACL, null, null));
    assertFalse(c.users().exists("admin"));
  }

  @Test
  void missingAclFileIsRefusedNamingIt() throws Exception {
    Path main = write("postern.yaml", BASE);
    ConfigException e = refused(main);
    assertTrue(e.file().endsWith("acl.yaml"), e.getMessage());
  }

  // --- mistakes: postern.yaml -------------------------------------------------------------------

  @Test
  void unknownOptionTypoIsRefusedWithItsLine() throws Exception {
    ConfigException e = refused(conf(BASE + "mesage_size_limit: 50M\n"));
    assertWhere(e, "postern.yaml", 5, "mesage_size_limit");
    assertEquals("mesage_size_limit", e.option());
    assertTrue(e.getMessage().contains("unknown option"), e.getMessage());
  }

  @Test
  void unknownNestedListenerOptionIsRefused() throws Exception {
    ConfigException e = refused(conf(BASE + String.join("\n",
        "listeners:",
        "  smtp:",
        "    adress: 127.0.0.1",
        "    port: 2525", "")));
    assertWhere(e, "postern.yaml", 7, "adress");
    assertEquals("listeners.smtp.adress", e.option());
  }

  @ParameterizedTest
  @ValueSource(strings = {"50X", "fifty", "1.5M", "-1", "M", "50MB"})
  void badSizeIsRefused(String value) throws Exception {
    ConfigException e = refused(conf(BASE + "recipients_max: 100\nmessage_size_limit: " + value + "\n"));
    assertWhere(e, "postern.yaml", 6, "message_size_limit");
    assertTrue(e.getMessage().contains(value), e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"5 minutes", "5x", "m5", "1h30", "5m30", "1.5h", "-5m"})
  void badTimeIsRefused(String value) throws Exception {
    ConfigException e = refused(conf(BASE + "smtp_receive_timeout: \"" + value + "\"\n"));
    assertWhere(e, "postern.yaml", 5, "smtp_receive_timeout");
  }

  @Test
  void zeroReceiveTimeoutIsRefused() throws Exception {
    ConfigException e = refused(conf(BASE + "smtp_receive_timeout: 0s\n"));
    assertWhere(e, "postern.yaml", 5, "smtp_receive_timeout");
  }

  @Test
  void zeroDataTimeoutIsRefused() throws Exception {
    ConfigException e = refused(conf(BASE + "smtp_data_timeout: 0s\n"));
    assertWhere(e, "postern.yaml", 5, "smtp_data_timeout");
    assertTrue(e.getMessage().contains("must be longer than 0s"), e.getMessage());
  }

  @Test
  void proxyOptionsHaveEximsDefaultsAndAreChecked() throws Exception {
    PosternConfig defaults = load(BASE);
    assertEquals(java.time.Duration.ofSeconds(3), defaults.proxy().timeout());
    assertFalse(defaults.proxy().required("127.0.0.1"), "hosts_proxy is empty by default");
    PosternConfig set = load(BASE + "hosts_proxy: \"10.0.0.0/8 : 192.0.2.5\"\nproxy_protocol_timeout: 10s\n");
    assertTrue(set.proxy().required("10.1.2.3") && set.proxy().required("192.0.2.5"));
    assertFalse(set.proxy().required("192.0.2.6"));
    assertEquals(java.time.Duration.ofSeconds(10), set.proxy().timeout());
    ConfigException zero = refused(conf(BASE + "proxy_protocol_timeout: 0s\n"));
    assertWhere(zero, "postern.yaml", 5, "proxy_protocol_timeout");
    ConfigException list = refused(conf(BASE + "hosts_proxy: \"10.0.0.0/33\"\n"));
    assertWhere(list, "postern.yaml", 5, "hosts_proxy");
  }

  @Test
  void storageThresholdsCountABareNumberInKilobytesAsEximDoes() throws Exception {
    PosternConfig c = load(BASE + "check_spool_space: 2048\ncheck_log_space: 1G\ncheck_spool_inodes: 0\n"
        + "check_log_inodes: 5\n");
    assertEquals(new StorageChecks(2L << 20, 0, 1L << 30, 5), c.storage());
  }

  @Test

  void sizeTooBigForALongIsRefusedAsConfigError() throws Exception {
    Path main = conf(BASE + "message_size_limit: 99999999999999999999\n");
    ConfigException e = refused(main);
    assertWhere(e, "postern.yaml", 5, "message_size_limit");
  }

  @Test

  void sizeThatOverflowsWithItsSuffixIsRefused() throws Exception {
    Path main = conf(BASE + "message_size_limit: 9999999999G\n");
    try {
      PosternConfig c = ConfigLoader.load(main);
      fail("accepted with message_size_limit = " + c.messageSizeLimit());
    } catch (ConfigException e) {
      assertWhere(e, "postern.yaml", 5, "message_size_limit");
    }
  }

  @Test

  void timeTooBigForALongIsRefusedAsConfigError() throws Exception {
    Path main = conf(BASE + "smtp_receive_timeout: 99999999999999999999s\n");
    ConfigException e = refused(main);
    assertWhere(e, "postern.yaml", 5, "smtp_receive_timeout");
  }

  @ParameterizedTest
  @ValueSource(strings = {"maybe", "1", "enabled"})
  void badBooleanIsRefused(String value) throws Exception {
    ConfigException e = refused(conf(BASE + "smtp_enforce_sync: " + value + "\n"));
    assertWhere(e, "postern.yaml", 5, "smtp_enforce_sync");
    assertTrue(e.getMessage().contains(value), e.getMessage());
  }

  @ParameterizedTest
  @CsvSource({"recipients_max, 0", "recipients_max, 1000001", "smtp_accept_max_per_host, -5",
      "smtp_max_unknown_commands, 1001", "recipients_max, 99999999999", "recipients_max, ten"})
  void integerOutOfRangeOrNotANumberIsRefused(String option, String value) throws Exception {
    ConfigException e = refused(conf(BASE + "smtp_accept_max: 10\n" + option + ": " + value + "\n"));
    assertWhere(e, "postern.yaml", 6, option);
  }

  @Test
  void duplicateOptionIsRefusedAtItsSecondLine() throws Exception {
    ConfigException e = refused(conf(BASE + "message_size_limit: 50M\nrecipients_max: 10\nmessage_size_limit: 10M\n"));
    assertWhere(e, "postern.yaml", 7, "message_size_limit");
  }

  @Test
  void duplicateNestedOptionIsRefused() throws Exception {
    ConfigException e = refused(conf(BASE + String.join("\n",
        "listeners:",
        "  smtp:",
        "    address: 127.0.0.1",
        "    port: 2525",
        "    port: 2526", "")));
    assertWhere(e, "postern.yaml", 9, "port");
  }

  @Test
  void yamlSyntaxErrorReportsItsLine() throws Exception {
    ConfigException e = refused(conf(BASE + "recipients_max: 10\nmessage_size_limit: 50M: oops\nbare_lf: reject\n"));
    assertWhere(e, "postern.yaml", 6, null);
    assertTrue(e.getMessage().contains("YAML"), e.getMessage());
  }

  @Test
  void yamlSyntaxErrorInAclFileNamesAclFile() throws Exception {
    ConfigException e = refused(conf(BASE,
        "acl_check_rcpt:\n  - accept: { hosts: 127.0.0.1 }\n  - deny: message: oops\n  - accept:\n", "", ""));
    assertWhere(e, "acl.yaml", 3, null);
    assertTrue(e.getMessage().contains("YAML"), e.getMessage());
  }

  @Test
  void topLevelMustBeAMapping() throws Exception {
    ConfigException e = refused(conf("- a\n- b\n"));
    assertTrue(e.file().endsWith("postern.yaml"), e.getMessage());
    assertEquals(1, e.line(), e.getMessage());
  }

  @Test
  void listenerAddressThatIsNotAnIpIsRefused() throws Exception {
    ConfigException e = refused(conf(BASE + String.join("\n",
        "listeners:",
        "  smtp:",
        "    address: 127.0.0.1",
        "    port: 2525",
        "  submission:",
        "    address: mail.example",
        "    port: 2587", "")));
    assertWhere(e, "postern.yaml", 10, "address");
    assertEquals("listeners.submission.address", e.option());
  }

  @ParameterizedTest
  @ValueSource(strings = {"300.1.2.3", "1.2.3.4.5", "cafe", "1:2:3"})

  void listenerAddressThatIsNotAValidIpIsRefused(String address) throws Exception {
    ConfigException e = refused(conf(BASE + String.join("\n",
        "listeners:",
        "  smtp:",
        "    address: \"" + address + "\"",
        "    port: 2525", "")));
    assertWhere(e, "postern.yaml", 7, "address");
  }

  @Test
  void validListenerAddressesAreAccepted() throws Exception {
    PosternConfig c = load(BASE + String.join("\n",
        "listeners:",
        "  a: { address: \"::1\", port: 25 }",
        "  b: { address: \"*\", port: 0 }",
        "  c: { address: 192.0.2.10, port: 65535 }", ""));
    assertEquals(List.of(new ListenerConfig("a", "::1", 25), new ListenerConfig("b", "0.0.0.0", 0),
        new ListenerConfig("c", "192.0.2.10", 65535)), c.listeners());
  }

  @ParameterizedTest
  @ValueSource(strings = {"65536", "70000", "-1", "smtp"})
  void badListenerPortIsRefused(String port) throws Exception {
    ConfigException e = refused(conf(BASE + String.join("\n",
        "listeners:",
        "  smtp:",
        "    address: 127.0.0.1",
        "    port: " + port, "")));
    assertWhere(e, "postern.yaml", 8, "port");
    assertEquals("listeners.smtp.port", e.option());
  }

  @Test
  void listenerWithoutPortIsRefused() throws Exception {
    ConfigException e = refused(conf(BASE + "listeners:\n  smtp: { address: 127.0.0.1 }\n"));
    assertTrue(e.file().endsWith("postern.yaml"), e.getMessage());
    assertTrue(e.getMessage().contains("port"), e.getMessage());
    assertTrue(e.line() == 6, e.getMessage());
  }

  @Test
  void aclStageNamingAMissingAclIsRefused() throws Exception {
    ConfigException e = refused(conf(BASE + "recipients_max: 10\nacl_smtp_rcpt: acl_check_nothere\n"));
    assertWhere(e, "postern.yaml", 6, "acl_smtp_rcpt");
    assertTrue(e.getMessage().contains("acl_check_nothere"), e.getMessage());
  }

  @Test
  void pluginTimeoutsAndThePluginDirectoryHaveDefaultsAndPerNameValues() throws Exception {
    PosternConfig defaults = load(BASE);
    assertEquals(java.time.Duration.ofSeconds(5), defaults.pluginTimeout("greylist"));
    assertEquals(dir.getParent().resolve("plugins"), defaults.pluginDirectory());
    PosternConfig c = load(BASE + "acl_plugin_timeout: 2s\nacl_plugin_timeouts:\n  greylist: 300ms\n"
        + "plugin_directory: extra/jars\n");
    assertEquals(java.time.Duration.ofMillis(300), c.pluginTimeout("greylist"));
    assertEquals(java.time.Duration.ofSeconds(2), c.pluginTimeout("other"));
    assertEquals(dir.resolve("extra/jars"), c.pluginDirectory());
  }

  @Test
  void badPluginTimeoutsAreRefusedWithTheirName() throws Exception {
    assertWhere(refused(conf(BASE + "acl_plugin_timeouts:\n  greylist: 0s\n")), "postern.yaml", 6,
        "acl_plugin_timeouts.greylist");
    assertWhere(refused(conf(BASE + "acl_plugin_timeouts:\n  \"grey list\": 1s\n")), "postern.yaml", 6,
        "acl_plugin_timeouts");
    assertWhere(refused(conf(BASE + "acl_plugin_timeouts:\n  greylist: soon\n")), "postern.yaml", 6,
        "acl_plugin_timeouts.greylist");
  }

  @Test
  void aPluginAuthenticatorServesAnyMechanismOnItsAddressWithinItsTimeout() throws Exception {
    PosternConfig c = load(BASE + "authenticators:\n  oauth:\n    driver: plugin\n    public_name: XOAUTH2\n"
        + "  otp:\n    driver: plugin\n    public_name: X-OTP\n    address: example.otp\n    timeout: 3s\n");
    AuthenticatorConfig oauth = c.auth().mechanism("XOAUTH2");
    assertTrue(oauth.plugin());
    assertEquals("postern.auth.plugin.oauth", oauth.address());
    assertEquals(java.time.Duration.ofSeconds(10), oauth.timeout());
    AuthenticatorConfig otp = c.auth().mechanism("X-OTP");
    assertEquals("example.otp", otp.address());
    assertEquals(java.time.Duration.ofSeconds(3), otp.timeout());
    assertEquals(null, load(BASE).auth().mechanism("PLAIN").address());
  }

  @Test
  void aPluginAuthenticatorMayNotTakeTheAuthenticatorsOwnAddresses() throws Exception {
    assertWhere(refused(conf(BASE + "authenticators:\n  oauth:\n    driver: plugin\n    public_name: XOAUTH2\n"
        + "    address: postern.auth.XOAUTH2\n")), "postern.yaml", 9, "authenticators.oauth.address");
    assertWhere(refused(conf(BASE + "authenticators:\n  oauth:\n    driver: plugin\n    public_name: XOAUTH2\n"
        + "    timeout: 0s\n")), "postern.yaml", 9, "authenticators.oauth.timeout");
    assertWhere(refused(conf(BASE + "authenticators:\n  oauth:\n    driver: oauth\n    public_name: XOAUTH2\n")),
        "postern.yaml", 7, "authenticators.oauth.driver");
  }

  @Test
  void aPluginConditionTakesAnExpandedArgumentAndANameOfSafeCharacters() throws Exception {
    PosternConfig c = ConfigLoader.load(conf(BASE + "acl_smtp_rcpt: r\n",
        "r:\n  - deny: { plugin: \"greylist/$sender_address\" }\n", null, null));
    org.postern.policy.PluginCondition p = (org.postern.policy.PluginCondition) c.acls().get("r").rules().get(0)
        .conditions().get(0);
    assertEquals("greylist", p.name());
    assertEquals("postern.acl.condition.greylist", p.address());
    assertEquals("plugin = greylist/$sender_address", p.describe());
    ConfigException bad = refused(conf(BASE + "acl_smtp_rcpt: r\n", "r:\n  - deny: { plugin: \"grey list\" }\n",
        null, null));
    assertWhere(bad, "acl.yaml", 2, "plugin");
    ConfigException unknown = refused(conf(BASE + "acl_smtp_rcpt: r\n",
        "r:\n  - deny: { plugin: \"greylist/$no_such_variable\" }\n", null, null));
    assertWhere(unknown, "acl.yaml", 2, "plugin");
  }

  @Test
  void badHostListInPosternYamlIsRefused() throws Exception {
    ConfigException e = refused(conf(BASE + "hostlist:\n  relay_from_hosts: \"127.0.0.1 : 10.0.0.0/33\"\n"));
    assertWhere(e, "postern.yaml", 6, "relay_from_hosts");
  }

  @Test
  void badPrimaryHostnameIsRefused() throws Exception {
    ConfigException e = refused(conf("# c\nprimary_hostname: \"bad host!\"\n"));
    assertWhere(e, "postern.yaml", 2, "primary_hostname");
  }

  @Test
  void badBareLfValueIsRefused() throws Exception {
    ConfigException e = refused(conf(BASE + "bare_lf: accept\n"));
    assertWhere(e, "postern.yaml", 5, "bare_lf");
  }

  // --- mistakes: acl.yaml ---------------------------------------------------------------------

  @Test
  void aclUnknownVerbIsRefused() throws Exception {
    ConfigException e = refused(conf(BASE, String.join("\n",
        "acl_check_rcpt:",
        "  - accept: { domains: +local_domains }",
        "  - reject: { message: no }", ""), "", ""));
    assertWhere(e, "acl.yaml", 3, "reject");
    assertTrue(e.getMessage().contains("unknown verb"), e.getMessage());
  }

  @Test
  void aclUnknownConditionIsRefused() throws Exception {
    ConfigException e = refused(conf(BASE, String.join("\n",
        "acl_check_rcpt:",
        "  - accept:",
        "      domains: +local_domains",
        "      spf: pass",
        "  - deny:", ""), "", ""));
    assertWhere(e, "acl.yaml", 4, "spf");
  }

  @Test
  void aclUnknownNegatedConditionIsRefused() throws Exception {
    ConfigException e = refused(conf(BASE, String.join("\n",
        "acl_check_rcpt:",
        "  - deny:",
        "      \"!hostz\": 192.0.2.0/24", ""), "", ""));
    assertWhere(e, "acl.yaml", 3, "hostz");
  }

  @Test
  void aclBadCidrIsRefused() throws Exception {
    ConfigException e = refused(conf(BASE, String.join("\n",
        "# relay",
        "acl_check_rcpt:",
        "  - accept:",
        "      hosts: 10.0.0.0/33",
        "  - deny: { message: relay not permitted }", ""), "", ""));
    assertWhere(e, "acl.yaml", 4, "hosts");
    assertTrue(e.getMessage().contains("10.0.0.0/33"), e.getMessage());
  }

  @Test
  void aclRuleWithTwoVerbsIsRefused() throws Exception {
    ConfigException e = refused(conf(BASE, String.join("\n",
        "acl_check_rcpt:",
        "  - accept: { domains: +local_domains }",
        "  - accept: { hosts: 127.0.0.1 }",
        "    deny: { message: relay not permitted }", ""), "", ""));
    assertWhere(e, "acl.yaml", 3, "acl_check_rcpt");
    assertTrue(e.getMessage().contains("accept") && e.getMessage().contains("deny"), e.getMessage());
  }

  @Test
  void aclUnknownNamedListIsRefused() throws Exception {
    ConfigException e = refused(conf(BASE, "acl_check_rcpt:\n  - accept: { hosts: +no_such_list }\n", "", ""));
    assertWhere(e, "acl.yaml", 2, "hosts");
    assertTrue(e.getMessage().contains("no_such_list"), e.getMessage());
  }

  @Test
  void aclUnsupportedVerifyIsRefused() throws Exception {
    ConfigException e = refused(conf(BASE, "acl_check_rcpt:\n  - require:\n      verify: spf\n", "", ""));
    assertWhere(e, "acl.yaml", 3, "verify");
  }

  // --- mistakes: passwd and aliases -----------------------------------------------------------

  @Test
  void passwdWithoutSchemeIsRefused() throws Exception {
    ConfigException e = refused(conf(BASE, SHIPPED_ACL, "# users\nalice:{PLAIN}a\nbob:secret\n", ""));
    assertWhere(e, "passwd", 3, "bob");
  }

  @Test
  void passwdWithBadUserNameIsRefused() throws Exception {
    ConfigException e = refused(conf(BASE, SHIPPED_ACL, "alice:{PLAIN}a\n\nbad user:{PLAIN}x\n", ""));
    assertTrue(e.file().endsWith("passwd"), e.getMessage());
    assertEquals(3, e.line(), e.getMessage());
    assertTrue(e.getMessage().contains("bad user"), e.getMessage());
  }

  @Test
  void aliasWithPipeIsRefused() throws Exception {
    ConfigException e = refused(conf(BASE, SHIPPED_ACL, "admin:\n",
        "# aliases\npostmaster: admin\nlogger: admin, |/usr/bin/logger\n"));
    assertWhere(e, "aliases", 3, "logger");
    assertTrue(e.getMessage().contains("|/usr/bin/logger"), e.getMessage());
  }

  @Test
  void aliasWithQuotedPipeIsRefused() throws Exception {
    ConfigException e = refused(conf(BASE, SHIPPED_ACL, "admin:\n", "logger: \"|/usr/bin/logger -t mail\"\n"));
    assertWhere(e, "aliases", 1, "logger");
  }

  @Test

  void aliasWithPipeOnContinuationLineReportsThatLine() throws Exception {
    ConfigException e = refused(conf(BASE, SHIPPED_ACL, "admin:\n",
        "postmaster: admin\nstaff: admin,\n  |/bin/cat\n"));
    assertWhere(e, "aliases", 3, "staff");
  }

  // --- value syntaxes -------------------------------------------------------------------------

  @ParameterizedTest
  @CsvSource({"50M, 52428800", "512K, 524288", "10k, 10240", "1G, 1073741824", "2g, 2147483648",
      "1000, 1000", "0, 0", "3m, 3145728"})
  void sizes(String value, long bytes) throws Exception {
    assertEquals(bytes, load(BASE + "message_size_limit: " + value + "\n").messageSizeLimit());
  }

  @ParameterizedTest
  @CsvSource({"30s, 30", "5m, 300", "1h30m, 5400", "2d, 172800", "1w, 604800", "90, 90", "1d2h3m4s, 93784"})
  void eximTimes(String value, long seconds) throws Exception {
    assertEquals(Duration.ofSeconds(seconds), load(BASE + "smtp_receive_timeout: " + value + "\n").smtpReceiveTimeout());
  }

  @ParameterizedTest
  @CsvSource({"250ms, 250", "1s500ms, 1500", "2m0s, 120000"})
  void millisecondTimes(String value, long millis) throws Exception {
    assertEquals(Duration.ofMillis(millis),
        load(BASE + "smtp_receive_timeout: " + value + "\n").smtpReceiveTimeout());
  }

  @Test
  void bareLfNormalize() throws Exception {
    assertEquals(BareLineEnds.NORMALIZE, load(BASE + "bare_lf: normalize\n").bareLineEnds());
    assertEquals(BareLineEnds.REJECT, load(BASE + "bare_lf: reject\n").bareLineEnds());
    assertEquals(BareLineEnds.REJECT, load(BASE).bareLineEnds());
  }

  @ParameterizedTest
  @CsvSource({"true, true", "yes, true", "on, true", "false, false", "no, false", "off, false", "TRUE, true"})
  void booleans(String value, boolean expected) throws Exception {
    assertEquals(expected, load(BASE + "smtp_enforce_sync: " + value + "\n").smtpEnforceSync());
  }

  @Test
  void namedListsAndBannerAreApplied() throws Exception {
    PosternConfig c = load(BASE + String.join("\n",
        "hostlist:",
        "  relay_from_hosts: \"<; 192.0.2.0/24 ; 2001:db8::/32\"",
        "  trusted: [ \"198.51.100.7\", \"+relay_from_hosts\" ]",
        "smtp_banner: \"$primary_hostname ready\"", ""));
    assertTrue(c.relayFromHosts().matches("192.0.2.55", null));
    assertTrue(c.relayFromHosts().matches("2001:db8::1", null));
    assertFalse(c.relayFromHosts().matches("127.0.0.1", null));
    assertTrue(c.hostLists().get("trusted").matches("192.0.2.1", null));
    assertTrue(c.hostLists().get("trusted").matches("198.51.100.7", null));
    assertTrue(c.localDomains().matches("test.example"));
    assertTrue(c.localDomains().matches("MX.TEST.EXAMPLE"));
    assertEquals("mx.test.example ready", c.smtpBanner());
  }

  @Test
  void parseTakesTextsWithoutTouchingDisk() throws Exception {
    Path main = dir.resolve("nowhere").resolve("postern.yaml");
    List<Path> files = ConfigLoader.files(main);
    PosternConfig c = ConfigLoader.parse(main, java.util.Map.of(
        files.get(0), BASE + "message_size_limit: 1K\n",
        files.get(1), SHIPPED_ACL,
        files.get(2), "carol:{PLAIN}x\n"));
    assertEquals(1024, c.messageSizeLimit());
    assertTrue(c.users().exists("carol"));
    assertFalse(Files.exists(main));
  }

  // ------------------------------------------------------------------ admin_listener, admin_token_file

  @Test
  void adminListenerIsOffUnlessConfigured() throws Exception {
    assertFalse(load(BASE).admin().enabled());
  }

  @Test
  void adminListenerWithATokenFileRelativeToTheConfiguration() throws Exception {
    write("admin.token", "s3cret\n");
    AdminSettings a = load(BASE + "admin_listener: { address: \"*\", port: 8025 }\nadmin_token_file: admin.token\n").admin();
    assertTrue(a.enabled());
    assertEquals("0.0.0.0", a.address());
    assertEquals(8025, a.port());
    assertEquals(dir.resolve("admin.token").toAbsolutePath().normalize(), a.tokenFile());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "admin_listener: { address: 127.0.0.1 }|admin_listener.port",
      "admin_listener: { address: localhost, port: 8025 }|admin_listener.address",
      "admin_listener: { port: 80250 }|admin_listener.port",
      "admin_listener: { port: 8025, tls: yes }|admin_listener.tls",
      "admin_token_file: admin.token|admin_token_file",
      "admin_listener: { port: 8025 }\\nadmin_token_file: missing.token|admin_token_file",
      "admin_listener: { port: 8025 }\\nadmin_token_file: empty.token|admin_token_file"})
  void badAdminOptionsAreRefusedWithFileLineAndOption(String lines, String option) throws Exception {
    write("empty.token", "\n");
    write("admin.token", "s3cret\n");
    ConfigException e = refused(conf(BASE + lines.replace("\\n", "\n") + "\n"));
    assertWhere(e, "postern.yaml", option.equals("admin_token_file") && lines.contains("\\n") ? 6 : 5, option);
  }
}
