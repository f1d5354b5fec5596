package org.postern.auth;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postern.bus.AuthReply;
import org.postern.bus.AuthStep;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code driver: plugin} authenticators: the SASL steps of a mechanism Postern does not have go to
 * the plugin's address as {@link AuthStep} JSON; its {@link AuthReply} JSON decides, and
 * {@code server_condition} and {@code server_set_id} apply as for the built-in drivers. A plugin
 * that is missing or silent is a temporary failure, not a hang.
 */
@Timeout(60)
class AuthPluginTest {
  private static final String TOKENS = "{ token: { driver: plugin, public_name: XTOKEN, timeout: 500ms,"
      + " server_condition: \"${if eq{$auth1}{bob}{no}{yes}}\", server_set_id: \"${uc:$auth1}\" } }";

  private static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  private static PosternTestServer server() throws Exception {
    return PosternTestServer.create().option("authenticators", TOKENS).option("smtp_auth_failure_delay", "0s")
        .option("auth_failures_per_host", "0").start();
  }

  private static SmtpTestClient ehloed(PosternTestServer s) throws Exception {
    SmtpTestClient c = SmtpTestClient.connect(s.port());
    assertEquals(220, c.reply().code());
    SmtpTestClient.Reply ehlo = c.command("EHLO client.example");
    assertTrue(ehlo.lines().contains("AUTH XTOKEN"), ehlo.toString());
    return c;
  }

  @Test
  void thePluginRunsTheExchangeAndServerConditionAndServerSetIdApply() throws Exception {
    try (PosternTestServer server = server()) {
      List<JsonObject> steps = new CopyOnWriteArrayList<>();
      // XTOKEN: an empty initial response gets the challenge "who?"; then "user:token" is checked.
      server.vertx().eventBus().<JsonObject>localConsumer("postern.auth.plugin.token", m -> {
        steps.add(m.body());
        AuthStep step = AuthStep.fromJson(m.body());
        String said = step.response() == null ? "" : new String(step.response(), StandardCharsets.UTF_8);
        if (said.isEmpty()) {
          m.reply(AuthReply.challenge("who?".getBytes(StandardCharsets.UTF_8)).toJson());
          return;
        }
        String[] parts = said.split(":", 2);
        m.reply(parts.length == 2 && parts[1].equals("good-" + parts[0])
            ? new JsonObject().put("status", "success").put("authenticated_id", parts[0])
                .put("auth", new JsonArray().add(parts[0]))
            : new JsonObject().put("status", "failure").put("user", parts[0]).put("reason", "bad token"));
      }).completion().toCompletionStage().toCompletableFuture().get();

      try (SmtpTestClient c = ehloed(server)) {
        SmtpTestClient.Reply challenge = c.command("AUTH XTOKEN");
        assertEquals(334, challenge.code(), challenge.toString());
        assertEquals(b64("who?"), challenge.text().strip());
        SmtpTestClient.Reply ok = c.command(b64("alice:good-alice"));
        assertEquals(235, ok.code(), ok.toString());
        assertEquals("2.7.0", ok.enhanced());
      }
      JsonObject first = steps.get(0);
      assertEquals("XTOKEN", first.getString("mechanism"));
      assertTrue(first.getBoolean("first"));
      assertEquals("127.0.0.1", first.getJsonObject("variables").getString("sender_host_address"));
      assertEquals(first.getString("exchange"), steps.get(1).getString("exchange"));
      assertEquals(false, steps.get(1).getBoolean("first"));

      try (SmtpTestClient c = ehloed(server)) {
        // server_set_id: the id is upper-cased; the message's log line names it.
        assertEquals(235, c.command("AUTH XTOKEN " + b64("carol:good-carol")).code());
        assertEquals(250, c.command("MAIL FROM:<carol@test.example>").code());
        assertEquals(250, c.command("RCPT TO:<alice@test.example>").code());
        assertEquals(354, c.command("DATA").code());
        SmtpTestClient.Reply done = c.command("Subject: t\r\n\r\nt\r\n.");
        assertEquals(250, done.code());
        String id = done.text().substring(done.text().indexOf("id=") + 3).strip();
        String arrival = org.postern.testing.MainLogFile.ofTestJvm().await(10_000, id, "<=");
        assertTrue(arrival.contains("A=token:CAROL"), arrival);
      }
      try (SmtpTestClient c = ehloed(server)) {
        // The plugin says yes to bob, server_condition says no; a bad token is the plugin's own no.
        SmtpTestClient.Reply bob = c.command("AUTH XTOKEN " + b64("bob:good-bob"));
        assertEquals(535, bob.code(), bob.toString());
        assertEquals("5.7.8", bob.enhanced());
        assertEquals(535, c.command("AUTH XTOKEN " + b64("dave:stolen")).code());
      }
    }
  }

  @Test
  void aMissingOrSilentPluginIsATemporaryFailureWithinTheTimeout() throws Exception {
    try (PosternTestServer server = server()) {
      try (SmtpTestClient c = ehloed(server)) {
        SmtpTestClient.Reply missing = c.command("AUTH XTOKEN " + b64("alice:good-alice"));
        assertEquals(454, missing.code(), missing.toString());
        assertEquals("4.7.0", missing.enhanced());
      }
      server.vertx().eventBus().localConsumer("postern.auth.plugin.token", m -> { })
          .completion().toCompletionStage().toCompletableFuture().get();
      try (SmtpTestClient c = ehloed(server)) {
        long start = System.nanoTime();
        SmtpTestClient.Reply silent = c.command("AUTH XTOKEN " + b64("alice:good-alice"));
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertEquals(454, silent.code(), silent.toString());
        assertTrue(millis < 10_000, "answered after " + millis + " ms");
        // Not counted: the session goes on, and AUTH may be tried again.
        assertEquals(250, c.command("NOOP").code());
      }
    }
  }
}
