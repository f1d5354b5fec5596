package org.postern.auth;

import org.junit.jupiter.api.Test;
import org.postern.config.ConfigException;
import org.postern.config.ConfigLoader;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Base64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** auth_provider swaps the Vert.x Auth provider behind PLAIN and LOGIN by configuration. */
class AuthProviderTest {

  private static String plain(String user, String password) {
    return Base64.getEncoder().encodeToString(("\0" + user + "\0" + password).getBytes(StandardCharsets.UTF_8));
  }

  private static int auth(PosternTestServer server, String user, String password) throws Exception {
    try (SmtpTestClient c = SmtpTestClient.connect(server.port())) {
      assertEquals(220, c.reply().code());
      assertTrue(c.command("EHLO client.example").text().contains("AUTH"));
      return c.command("AUTH PLAIN " + plain(user, password)).code();
    }
  }

  @Test
  void propertiesProviderReplacesPasswdForPlainAndLogin() throws Exception {
    try (PosternTestServer server = PosternTestServer.create()
        .option("auth_provider", "\"properties:users.properties\"")
        .option("smtp_auth_failure_delay", "0s")) {
      Files.writeString(server.confDir().resolve("users.properties"), "user.dave = dave-pw,mailer\n");
      server.start();
      assertEquals(235, auth(server, "dave", "dave-pw"));
      assertEquals(535, auth(server, "dave", "wrong"));
      // alice is only in conf/passwd: the properties provider does not know her.
      assertEquals(535, auth(server, "alice", "alice-secret"));
    }
  }

  @Test
  void passwdIsTheDefaultProvider() throws Exception {
    try (PosternTestServer server = PosternTestServer.create().option("smtp_auth_failure_delay", "0s").start()) {
      assertEquals(235, auth(server, "alice", "alice-secret"));
    }
  }

  @Test
  void unknownProviderIsRefusedAtLoad() throws Exception {
    PosternTestServer server = PosternTestServer.create().option("auth_provider", "ldap");
    try {
      ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(server.writeConfig()));
      assertTrue(e.getMessage().contains("auth_provider"), e.getMessage());
      assertTrue(e.line() > 0, e.getMessage());
    } finally {
      server.close();
    }
  }
}
