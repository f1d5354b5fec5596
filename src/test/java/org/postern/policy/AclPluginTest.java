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

  @Test
  void theReplySetsVariablesAddsHeadersAndLogsAndTheRequestCarriesTheArgument() throws Exception {
    String acl = "acl_check_rcpt:\n"
        + "  - deny:    { plugin: \"scorer/$sender_address\", message: \"score $acl_m_score: $local_part refused\" }\n"
        + "  - accept:  { plugin: \"tagger\" }\n"
        + "  - deny:\n"
        + "acl_check_expn:\n  - deny:\nacl_check_etrn:\n  - deny:\n";
    try (PosternTestServer server = PosternTestServer.create().acl(acl).start()) {
      java.util.List<JsonObject> asked = new java.util.concurrent.CopyOnWriteArrayList<>();
      server.vertx().eventBus().<JsonObject>localConsumer("postern.acl.condition.scorer", msg -> {
        asked.add(msg.body());
        boolean bad = "bad".equals(msg.body().getJsonObject("variables").getString("local_part"));
        msg.reply(new org.postern.bus.PluginConditionReply(bad ? org.postern.bus.PluginConditionReply.Result.TRUE
            : org.postern.bus.PluginConditionReply.Result.FALSE,
            java.util.Map.of("acl_m_score", "7", "sender_host_address", "192.0.2.66"), java.util.List.of(),
            bad ? "scored " + msg.body().getString("argument") + " 7\nforged line" : null, null).toJson());
      }).completion().toCompletionStage().toCompletableFuture().get();
      server.vertx().eventBus().<JsonObject>localConsumer("postern.acl.condition.tagger",
          msg -> msg.reply(new JsonObject().put("result", true)
              .put("headers", new io.vertx.core.json.JsonArray().add("X-Plugin: checked")))).completion()
          .toCompletionStage().toCompletableFuture().get();

      org.postern.testing.MainLogFile log = org.postern.testing.MainLogFile.ofTestJvm().fromNow();
      SmtpTestClient.Reply refused = rcpt(server, "bad@test.example");
      assertEquals(550, refused.code(), refused.toString());
      assertTrue(refused.text().contains("score 7: bad refused"), refused.toString());
      JsonObject request = asked.get(0);
      assertEquals("scorer", request.getString("name"));
      assertEquals("sender@example.org", request.getString("argument"));
      assertEquals("rcpt", request.getString("stage"));
      assertEquals("bad", request.getJsonObject("variables").getString("local_part"));
      String logged = log.await(10_000,
          "plugin scorer: scored sender@example.org 7 forged line");
      // The plugin could not overwrite $sender_host_address (only acl_c*/acl_m*), nor forge a second log line.
      assertTrue(logged.contains("H=[127.0.0.1] plugin scorer:"), logged);

      // Accepted by the tagger: its header is in the delivered message.
      try (SmtpTestClient c = SmtpTestClient.connect(server.port())) {
        assertEquals(220, c.reply().code());
        assertEquals(250, c.command("EHLO client.example").code());
        assertEquals(250, c.command("MAIL FROM:<sender@example.org>").code());
        assertEquals(250, c.command("RCPT TO:<alice@test.example>").code());
        assertEquals(354, c.command("DATA").code());
        assertEquals(250, c.command("Subject: tagged\r\n\r\nbody\r\n.").code());
      }
      String delivered = java.nio.file.Files.readString(server.awaitMailbox("alice", 1, 10_000).get(0));
      assertTrue(delivered.contains("X-Plugin: checked\r\n"), delivered);
    }
  }

  @Test
  void aPluginsOwnTimeoutOverridesTheDefaultAndASilentPluginDefers() throws Exception {
    String acl = "acl_check_rcpt:\n  - deny:    { plugin: \"silent/x\" }\n  - accept:\n"
        + "acl_check_expn:\n  - deny:\nacl_check_etrn:\n  - deny:\n";
    try (PosternTestServer server = PosternTestServer.create().acl(acl).option("acl_plugin_timeout", "60s")
        .option("acl_plugin_timeouts", "{ silent: 300ms }").start()) {
      java.util.concurrent.atomic.AtomicInteger asked = new java.util.concurrent.atomic.AtomicInteger();
      server.vertx().eventBus().<JsonObject>localConsumer("postern.acl.condition.silent", msg -> asked.incrementAndGet())
          .completion().toCompletionStage().toCompletableFuture().get();
      long start = System.nanoTime();
      SmtpTestClient.Reply deferred = rcpt(server, "alice@test.example");
      long millis = (System.nanoTime() - start) / 1_000_000;
      assertEquals(450, deferred.code(), deferred.toString());
      assertEquals("4.7.1", deferred.enhanced(), deferred.toString());
      assertEquals(1, asked.get());
      assertTrue(millis < 10_000, "deferred after " + millis + " ms, not after the 60 s default");
    }
  }
}
