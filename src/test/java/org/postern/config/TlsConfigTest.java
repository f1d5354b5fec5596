package org.postern.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.tls.TlsEngine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** TLS options are validated at load time, with file, line and option, like every other option. */
class TlsConfigTest {
  @TempDir
  Path dir;

  private ConfigException refused(String yaml) throws Exception {
    Path file = dir.resolve("postern.yaml");
    Files.writeString(file, "primary_hostname: mx.test.example\n" + yaml);
    Files.writeString(dir.resolve("acl.yaml"), "");
    return assertThrows(ConfigException.class, () -> ConfigLoader.load(file));
  }

  private static void assertWhere(ConfigException e, int line, String option) {
    assertTrue(e.file().endsWith("postern.yaml"), e.getMessage());
    assertEquals(line, e.line(), e.getMessage());
    assertTrue(e.getMessage().contains(option), e.getMessage());
  }

  @Test
  void unknownCipherKeywordOrAnEmptySelectionIsRefused() throws Exception {
    ConfigException unknown = refused("tls_require_ciphers: \"HIGH:!aNUL\"\n");
    assertWhere(unknown, 2, "tls_require_ciphers");
    assertTrue(unknown.getMessage().contains("unknown cipher keyword \"aNUL\""), unknown.getMessage());
    ConfigException empty = refused("tls_protocols: TLSv1.2\ntls_require_ciphers: \"HIGH:!HIGH\"\n");
    assertWhere(empty, 3, "tls_require_ciphers");
    assertTrue(empty.getMessage().contains("selects no cipher suite"), empty.getMessage());
  }

  @Test
  void opensslKeywordListsAreAcceptedAndTheDefaultIsForwardSecretAead() throws Exception {
    Path file = dir.resolve("postern.yaml");
    Files.writeString(dir.resolve("acl.yaml"), "");
    // Keywords over the JDK's suites (BoringSSL has no SHA-256 CBC suites).
    Files.writeString(file, "primary_hostname: mx.test.example\ntls_engine: jdk\n"
        + "tls_require_ciphers: \"HIGH:!aNULL:!MD5:!kRSA\"\n");
    List<String> keywords = ConfigLoader.load(file).tls().cipherSuites();
    assertTrue(keywords.contains("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"), keywords.toString());
    assertTrue(keywords.stream().noneMatch(s -> s.startsWith("TLS_RSA_")), keywords.toString());
    Files.writeString(file, "primary_hostname: mx.test.example\n");
    List<String> defaults = ConfigLoader.load(file).tls().cipherSuites();
    assertTrue(defaults.contains("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256") && defaults.contains("TLS_AES_128_GCM_SHA256"),
        defaults.toString());
    assertTrue(defaults.stream().noneMatch(s -> s.contains("_CBC_") || s.startsWith("TLS_RSA_")),
        "no CBC (LUCKY13), no static RSA key exchange: " + defaults);
  }

  @Test
  void defaultCiphersOnBoringSslLeaveOutTheDheSuitesItLacks() throws Exception {
    assumeTrue(TlsEngine.openSslAvailable(), "netty-tcnative does not load here");
    Path file = dir.resolve("postern.yaml");
    Files.writeString(dir.resolve("acl.yaml"), "");
    Files.writeString(file, "primary_hostname: mx.test.example\ntls_engine: openssl\n");
    TlsSettings tls = ConfigLoader.load(file).tls();
    assertEquals(TlsEngine.OPENSSL, tls.engine());
    assertTrue(tls.cipherSuites().contains("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"), tls.cipherSuites().toString());
    assertTrue(tls.cipherSuites().stream().noneMatch(s -> s.contains("_DHE_")), tls.cipherSuites().toString());
  }

  @Test
  void unknownTlsEngineIsRefused() throws Exception {
    assertWhere(refused("tls_engine: gnutls\n"), 2, "tls_engine");
  }

  @Test
  void unsupportedCipherIsRefused() throws Exception {
    assertWhere(refused("tls_protocols: TLSv1.2\ntls_require_ciphers: TLS_FOO_WITH_BAR\n"), 3, "tls_require_ciphers");
  }

  @Test
  void unsafeOrUnknownProtocolIsRefused() throws Exception {
    assertWhere(refused("tls_protocols: SSLv3 TLSv1.2\n"), 2, "tls_protocols");
    assertWhere(refused("tls_protocols: TLSv9\n"), 2, "tls_protocols");
  }

  @Test
  void clientCertificateHostsNeedACaBundle() throws Exception {
    assertWhere(refused("tls_verify_hosts: 127.0.0.1\n"), 2, "tls_verify_hosts");
    assertWhere(refused("tls_try_verify_hosts: 127.0.0.1\n"), 2, "tls_try_verify_hosts");
  }

  @Test
  void privateKeyWithoutCertificateIsRefused() throws Exception {
    assertWhere(refused("tls_privatekey: key.pem\n"), 2, "tls_privatekey");
  }

  @Test
  void badOnConnectPortIsRefused() throws Exception {
    assertWhere(refused("tls_on_connect_ports: \"2465 : smtps\"\n"), 2, "tls_on_connect_ports");
  }

  @Test
  void optionsAreParsed() throws Exception {
    Path file = dir.resolve("postern.yaml");
    Files.writeString(file, "primary_hostname: mx.test.example\ntls_certificate: cert.pem\n"
        + "tls_verify_certificates: ca.pem\ntls_try_verify_hosts: \"<; 127.0.0.1 ; ::1\"\n"
        + "tls_require_ciphers: ECDHE-RSA-AES256-GCM-SHA384\ntls_protocols: TLSv1.2\n"
        + "tls_on_connect_ports: \"465 : 2465\"\n");
    Files.writeString(dir.resolve("acl.yaml"), "");
    TlsSettings tls = ConfigLoader.load(file).tls();
    assertEquals(dir.resolve("cert.pem"), tls.certificate());
    assertEquals(dir.resolve("cert.pem"), tls.certificate());
    assertEquals(null, tls.privateKey());
    assertEquals("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", tls.cipherSuites().get(tls.cipherSuites().size() - 1));
    assertEquals(1, tls.cipherSuites().stream().filter(s -> s.contains("_WITH_")).count(), tls.cipherSuites().toString());
    assertEquals(List.of("TLSv1.2"), tls.protocols());
    assertEquals(java.util.Set.of(465, 2465), tls.onConnectPorts());
    assertTrue(tls.tryVerifyHosts().matches("::1", null));
  }
}
