package org.postern.delivery.smtp;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.postern.config.ClientAuthenticator;
import org.postern.config.ConfigException;
import org.postern.config.ConfigLoader;
import org.postern.config.SmtpTransportOptions;
import org.postern.config.YamlSection;

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

/** The smtp transport's options: Exim's defaults, and every refusal naming file, line and option. */
class SmtpTransportOptionsTest {
  @TempDir
  Path dir;

  private SmtpTransportOptions parse(String yaml) throws Exception {
    return SmtpClientTesting.options(dir, yaml);
  }

  @Test
  void defaultsAreExims() throws Exception {
    SmtpTransportOptions o = parse("driver: smtp\n");
    assertEquals(25, o.port());
    assertEquals(SmtpClientTesting.HELO, o.heloData());
    assertEquals(Duration.ofMinutes(5), o.connectTimeout());
    assertEquals(Duration.ofMinutes(5), o.commandTimeout());
    assertEquals(Duration.ofMinutes(5), o.dataTimeout());
    assertEquals(Duration.ofMinutes(10), o.finalTimeout());
    assertEquals(100, o.maxRcpt());
    assertEquals(500, o.connectionMaxMessages());
    assertEquals(1024, o.sizeAddition());
    assertTrue(o.tlsTempfailTryclear());
    assertNull(o.tlsVerifyCertificates());
    assertTrue(o.tlsTryVerifyHosts().matches("192.0.2.1", null));
    assertTrue(o.tlsVerifyCertHostnames().matches("192.0.2.1", null));
    assertFalse(o.tlsVerifyHosts().matches("192.0.2.1", null));
    assertFalse(o.hostsRequireTls().matches("192.0.2.1", "mx.example"));
    assertFalse(o.hostsTryAuth().matches("192.0.2.1", "mx.example"));
    assertEquals(List.of(), o.tlsRequireCiphers());
    SmtpTransportOptions d = SmtpTransportOptions.defaults(SmtpClientTesting.HELO);
    assertEquals(List.of(o.port(), o.commandTimeout(), o.finalTimeout(), o.maxRcpt(), o.sizeAddition()),
        List.of(d.port(), d.commandTimeout(), d.finalTimeout(), d.maxRcpt(), d.sizeAddition()));
    assertEquals(o.tlsTryVerifyHosts().spec(), d.tlsTryVerifyHosts().spec());
  }

  @Test
  void optionsAreRead() throws Exception {
    Files.writeString(dir.resolve("ca.pem"), "not checked at parse time beyond readability");
    SmtpTransportOptions o = parse(String.join("\n",
        "port: 2525",
        "helo_data: relay.example.org",
        "connect_timeout: 30s",
        "command_timeout: 1m30s",
        "data_timeout: 2m",
        "final_timeout: 1h",
        "hosts_avoid_tls: 192.0.2.0/24",
        "hosts_require_tls: \"*.secure.example\"",
        "tls_verify_certificates: ca.pem",
        "tls_verify_hosts: [ 192.0.2.7, \"::1\" ]",
        "tls_require_ciphers: ECDHE-RSA-AES256-GCM-SHA384",
        "tls_sni: mx.example.org",
        "max_rcpt: 7",
        "connection_max_messages: 3",
        "size_addition: 2K",
        "tls_tempfail_tryclear: no",
        ""));
    assertEquals(2525, o.port());
    assertEquals("relay.example.org", o.heloData());
    assertEquals(Duration.ofSeconds(30), o.connectTimeout());
    assertEquals(Duration.ofSeconds(90), o.commandTimeout());
    assertEquals(Duration.ofHours(1), o.finalTimeout());
    assertTrue(o.hostsAvoidTls().matches("192.0.2.9", null));
    assertTrue(o.hostsRequireTls().matches("198.51.100.1", "mx.secure.example"));
    assertEquals(dir.resolve("ca.pem").toString(), o.tlsVerifyCertificates());
    assertTrue(o.tlsVerifyHosts().matches("::1", null));
    assertEquals(List.of("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"), o.tlsRequireCiphers());
    assertEquals("mx.example.org", o.tlsSni());
    assertEquals(7, o.maxRcpt());
    assertEquals(3, o.connectionMaxMessages());
    assertEquals(2048, o.sizeAddition());
    assertFalse(o.tlsTempfailTryclear());
  }

  @Test
  void smtpsDefaultsToPort465AndInterfaceIsAnAddress() throws Exception {
    SmtpTransportOptions plain = parse("driver: smtp\n");
    assertFalse(plain.smtps());
    assertNull(plain.interfaceAddress());
    SmtpTransportOptions smtps = parse("protocol: smtps\ninterface: \"2001:db8::25\"\n");
    assertTrue(smtps.smtps());
    assertEquals(465, smtps.port());
    assertEquals("2001:db8::25", smtps.interfaceAddress());
    assertEquals(2465, parse("protocol: smtps\nport: 2465\n").port());
    assertEquals(5, plain.hostsMaxTry(), "Exim's default");
    assertEquals(2, parse("hosts_max_try: 2\n").hostsMaxTry());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', textBlock = """
      bad timeout                 | command_timeout: 5x                       | 2 | command_timeout         | not a time
      zero timeout                | data_timeout: 0s                          | 2 | data_timeout            | greater than zero
      bad host list               | hosts_require_tls: 192.0.2.0/99           | 2 | hosts_require_tls       | 192.0.2.0/99
      unsupported host list item  | hosts_avoid_tls: "@mx_any"                | 2 | hosts_avoid_tls         | @mx_any
      port out of range           | port: 70000                               | 2 | port                    | between 1 and 65535
      max_rcpt zero               | max_rcpt: 0                               | 2 | max_rcpt                | between 1
      bad size_addition           | size_addition: lots                       | 2 | size_addition           | not a size
      unknown option              | tls_verify_hostz: "*"                     | 2 | tls_verify_hostz        | unknown option
      wrong driver                | driver: appendfile                        | 1 | driver                  | expected smtp
      unreadable CA bundle        | tls_verify_certificates: /nonexistent.pem | 2 | tls_verify_certificates | cannot read
      verify hosts without CA     | tls_verify_hosts: "*"                     | 2 | tls_verify_hosts        | tls_verify_certificates
      OpenSSL keyword ciphers     | tls_require_ciphers: "HIGH:!aNULL"        | 2 | tls_require_ciphers     | not a cipher suite name
      key without certificate     | tls_privatekey: ca.pem                    | 2 | tls_privatekey          | without tls_certificate
      bad helo_data               | helo_data: "two words"                    | 2 | helo_data               | not a host name
      bad tls_sni                 | tls_sni: "-bad-"                          | 2 | tls_sni                 | not a host name
      bad boolean                 | tls_tempfail_tryclear: maybe              | 2 | tls_tempfail_tryclear   | true or false
      require auth, no client     | hosts_require_auth: "*"                   | 2 | hosts_require_auth      | no client authenticator
      hosts_max_try zero          | hosts_max_try: 0                          | 2 | hosts_max_try           | between 1
      unknown protocol            | protocol: lmtp                            | 2 | protocol                | expected smtp or smtps
      interface not an address    | interface: eth0                           | 2 | interface               | not an IPv4 or IPv6 address
      """)
  void refusals(String what, String option, int line, String name, String reason) throws Exception {
    Files.writeString(dir.resolve("ca.pem"), "x");
    ConfigException e = assertThrows(ConfigException.class, () -> parse("driver: smtp\n".repeat(line == 1 ? 0 : 1)
        + option + "\n"), what);
    assertEquals("transport.yaml", e.file(), e.getMessage());
    assertEquals(line, e.line(), e.getMessage());
    assertEquals(name, e.option(), e.getMessage());
    assertTrue(e.getMessage().contains(reason), e.getMessage());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', textBlock = """
      missing client_secret      | cram:\\n  driver: cram_md5\\n  client_name: u                             | 4 | cram.client_secret | missing
      missing client_name        | cram:\\n  driver: cram_md5\\n  client_secret: s                           | 4 | cram.client_name   | missing
      plaintext without name     | p:\\n  driver: plaintext\\n  client_send: ": u : s"                      | 4 | p.public_name      | PLAIN or LOGIN
      cram option on plaintext   | p:\\n  driver: plaintext\\n  public_name: PLAIN\\n  client_name: u       | 4 | p.client_name      | cram_md5 option
      empty client_send          | p:\\n  driver: plaintext\\n  public_name: LOGIN\\n  client_send: " : "   | 4 | p.client_send      | no credentials
      client scram               | s:\\n  driver: scram\\n  public_name: SCRAM-SHA-256\\n  client_name: u   | 2 | s.driver           | plaintext or cram_md5
      """)
  void authenticatorRefusals(String what, String yaml, int line, String name, String reason) {
    String text = yaml.replace("\\n", "\n") + "\n";
    ConfigException e = assertThrows(ConfigException.class,
        () -> ClientAuthenticator.parseAll(YamlSection.parse("auth.yaml", text)), what);
    assertEquals("auth.yaml", e.file());
    assertEquals(name, e.option(), e.getMessage());
    assertTrue(e.getMessage().contains(reason), e.getMessage());
    assertTrue(e.line() >= 2 && e.line() <= line, e.getMessage());
  }

  @Test
  void clientSendListsUseEximSyntax() throws Exception {
    List<ClientAuthenticator> a = ClientAuthenticator.parseAll(YamlSection.parse("auth.yaml", String.join("\n",
        "plain: { driver: plaintext, public_name: PLAIN, client_send: \": user : pa::ss \" }",
        "login: { driver: plaintext, public_name: LOGIN, client_send: [ \"\", user, \"pa:ss\" ] }",
        "server_only: { driver: plaintext, public_name: PLAIN, server_condition: yes }",
        "")));
    assertEquals(2, a.size(), "server-only entries are not client authenticators");
    assertEquals(List.of("", "user", "pa:ss"), a.get(0).send());
    assertEquals(List.of("", "user", "pa:ss"), a.get(1).send());
  }

  @Test
  void serverConfigurationAcceptsClientOptions() throws Exception {
    Files.copy(Path.of("conf", "acl.yaml"), dir.resolve("acl.yaml"));
    Path config = dir.resolve("postern.yaml");
    Files.writeString(config, String.join("\n",
        "primary_hostname: mx.test.example",
        "authenticators:",
        "  plain:",
        "    driver: plaintext",
        "    public_name: PLAIN",
        "    client_send: \": user : secret\"",
        "  cram:",
        "    driver: cram_md5",
        "    public_name: CRAM-MD5",
        "    client_name: user",
        "    client_secret: secret",
        ""), StandardCharsets.UTF_8);
    assertEquals(2, ConfigLoader.load(config).auth().authenticators().size());
    // The control: a misspelt client option is still refused by the server-side reader.
    Files.writeString(config, Files.readString(config).replace("client_name", "client_nam"));
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(config));
    assertTrue(e.getMessage().contains("client_nam: unknown option"), e.getMessage());
  }
}
