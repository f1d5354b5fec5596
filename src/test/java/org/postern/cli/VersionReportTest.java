package org.postern.cli;

import org.junit.jupiter.api.Test;
import org.postern.testing.ChildPostern;
import org.postern.testing.PosternTestServer;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code -bV} in a child process: versions, TLS engine, drivers, password schemes, the file it read. */
class VersionReportTest {
  @Test
  void bVNamesWhatPosternRunsOnAndWhatTheConfigurationUses() throws Exception {
    try (PosternTestServer files = PosternTestServer.create()) {
      var config = files.writeConfig();
      ChildPostern.Result r = ChildPostern.run(files.root(), config, "", "-bV");
      assertEquals(0, r.exit(), r::toString);
      List<String> lines = r.stdout().lines().toList();
      assertEquals("Postern " + VersionReport.VERSION, lines.get(0), r::toString);
      assertTrue(lines.get(1).matches("Java 17\\S* \\(.*\\), Vert.x 5\\.\\d+\\.\\d+, Netty 4\\.\\d+\\.\\S+,"
          + " Bouncy Castle 1\\.\\d+"), lines.get(1));
      // tls_engine auto: BoringSSL wherever netty-tcnative loads, as it does on linux-x86_64.
      boolean jdk = "jdk".equals(System.getProperty(org.postern.testing.PosternTestServer.TLS_ENGINE_PROPERTY));
      String engine = jdk ? "JSSE \\(SunJSSE \\S+\\)"
          : org.postern.tls.TlsEngine.openSslAvailable()
          ? "OpenSSL \\(BoringSSL, netty-tcnative; private-key operations by (OpenSSL 3\\S* .*, libcrypto\\.so\\.3|BoringSSL: .*)\\)"
          : "JSSE \\(SunJSSE \\S+\\); OpenSSL unavailable: .*";
      assertTrue(lines.get(2).matches("TLS engine: " + engine + ", protocols TLSv1.2 TLSv1.3"), lines.get(2));
      assertTrue(lines.get(3).startsWith("Authenticators: ") && lines.get(3).contains("(plaintext, PLAIN)"), lines.get(3));
      assertTrue(lines.get(4).startsWith("Transports: maildir"), lines.get(4));
      assertEquals("Plugin addresses: none", lines.get(5));
      assertEquals("Password schemes: PLAIN CRAM-MD5 BLF-CRYPT SCRAM-SHA-256 SHA512-CRYPT SHA256-CRYPT ARGON2ID",
          lines.get(6));
      assertTrue(lines.get(7).matches("Configuration file is " + java.util.regex.Pattern.quote(config.toString())
          + " \\(generation \\w+\\): OK"), lines.get(7));
    }
  }

  @Test
  void bVListsThePluginConditionsTransportsAndAuthenticatorsTheConfigurationNames() throws Exception {
    try (PosternTestServer files = PosternTestServer.create().withoutOption("acl_smtp_expn")
        .withoutOption("acl_smtp_etrn")
        .acl("acl_check_rcpt:\n  - deny: { plugin: \"greylist/$sender_address\" }\n  - warn: { plugin: greylist }\n")
        .option("transports", "{ archive: { driver: plugin } }")
        .option("authenticators", "{ xoauth2: { driver: plugin, public_name: XOAUTH2, address: oauth.check } }")) {
      var config = files.writeConfig();
      ChildPostern.Result r = ChildPostern.run(files.root(), config, "", "-bV");
      assertEquals(0, r.exit(), r::toString);
      List<String> lines = r.stdout().lines().toList();
      assertEquals("Transports: maildir archive (plugin)", lines.get(4), r::toString);
      assertEquals(List.of("Plugin addresses:",
          "  postern.acl.condition.greylist: ACL condition \"plugin: greylist\" in acl_check_rcpt ("
              + files.confDir().resolve("acl.yaml") + ":2)",
          "  postern.deliver.archive: transport \"archive\" (driver: plugin)",
          "  oauth.check: authenticator \"xoauth2\" (driver: plugin, XOAUTH2)"), lines.subList(5, 9), r::toString);
    }
  }
}
