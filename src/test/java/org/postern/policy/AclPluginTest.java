package org.postern.policy;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code plugin = <name>}: a verticle on {@code postern.acl.condition.<name>} decides; one that is
 * missing or too slow defers the command (4xx), it never hangs the session nor lets mail through.
 */
class AclPluginTest {
  private static final String ACL = "acl_check_rcpt:\n"
      + "  - deny:    { plugin: blocklist, message: \"$local_part is blocked by a plugin\" }\n"
      + "  - deny:    { plugin: slow }\n"
      + "  - require: { verify: recipient }\n"
      + "  - accept:  { domains: +local_domains }\n"
      + "  - deny:    { message: relay not permitted }\n"
      + "acl_check_expn:\n  - deny:\nacl_check_etrn:\n  - deny:\n";

  private static SmtpTestClient.Reply rcpt(PosternTestServer server, String address) throws Exception {
    try (SmtpTestClient c = SmtpTestClient.connect(server.port())) {
      assertEquals(220, c.reply().code());
      assertEquals(250, c.command("EHLO client.example").code());
      assertEquals(250, c.command("MAIL FROM:<sender@example.org>").code());
      return c.command("RCPT TO:<" + address + ">");
    }
  }

  @Test
  void pluginDecidesAndASilentPluginDefersWithinTheTimeout() throws Exception {
    try (PosternTestServer server = PosternTestServer.create().acl(ACL).option("acl_plugin_timeout", "300ms")
        .start()) {
      server.vertx().eventBus().<JsonObject>localConsumer("postern.acl.condition.blocklist", msg -> {
        String localPart = msg.body().getJsonObject("variables").getString("local_part");
        msg.reply(new JsonObject().put("result", "spam".equals(localPart)));
      }).completion().toCompletionStage().toCompletableFuture().get();

      SmtpTestClient.Reply blocked = rcpt(server, "spam@test.example");
      assertEquals(550, blocked.code(), blocked.toString());
      assertTrue(blocked.text().contains("spam is blocked by a plugin"), blocked.toString());

      // "slow" is not deployed: no answer within 300 ms means defer, not accept.
      long start = System.nanoTime();
      SmtpTestClient.Reply deferred = rcpt(server, "alice@test.example");
      long millis = (System.nanoTime() - start) / 1_000_000;
      assertEquals(450, deferred.code(), deferred.toString());
      assertEquals("4.7.1", deferred.enhanced(), deferred.toString());
      assertTrue(millis < 5000, "deferred after " + millis + " ms");

      // A plugin that answers but never says yes or no also defers.
      server.vertx().eventBus().<JsonObject>localConsumer("postern.acl.condition.slow",
          msg -> msg.reply(new JsonObject().put("result", "maybe"))).completion()
          .toCompletionStage().toCompletableFuture().get();
      assertEquals(450, rcpt(server, "alice@test.example").code());
    }
  }

  @Test
  void answeringPluginsLetOrdinaryMailThrough() throws Exception {
    try (PosternTestServer server = PosternTestServer.create().acl(ACL).start()) {
      server.vertx().eventBus().<JsonObject>localConsumer("postern.acl.condition.blocklist",
          msg -> msg.reply(new JsonObject().put("result", false))).completion()
          .toCompletionStage().toCompletableFuture().get();
      server.vertx().eventBus().<JsonObject>localConsumer("postern.acl.condition.slow",
          msg -> msg.reply(new JsonObject().put("result", false))).completion()
          .toCompletionStage().toCompletableFuture().get();
      assertEquals(250, rcpt(server, "alice@test.example").code());
      SmtpTestClient.Reply relay = rcpt(server, "x@remote.example");
      assertEquals(550, relay.code(), relay.toString());
      assertTrue(relay.text().contains("relay not permitted"), relay.toString());
    }
  }
}
