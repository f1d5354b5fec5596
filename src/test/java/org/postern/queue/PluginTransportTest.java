package org.postern.queue;

import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postern.bus.Addresses;
import org.postern.bus.DeliveryRequest;
import org.postern.bus.MessageEvent;
import org.postern.testing.MainLogFile;
import org.postern.testing.PosternTestServer;
import org.postern.testing.PublishedEvents;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.queue.RelayTesting.await;
import static org.postern.queue.RelayTesting.awaitLog;
import static org.postern.queue.RelayTesting.send;

/**
 * {@code driver: plugin} transports: the queue sends the verticle on the transport's address the
 * same {@link DeliveryRequest} as to smtp and maildir, in JSON, and treats its per-recipient answer
 * as any transport's (main log, retries, bounces, events); one that does not answer defers.
 */
@Timeout(60)
class PluginTransportTest {
  private static final String ROUTERS = "[ { name: local_user, driver: local }, { name: to_plugin, driver: accept,"
      + " domains: \"!+local_domains\", transport: recorder } ]";

  private static final String ACCEPT_ALL = "acl_check_rcpt:\n  - accept:\nacl_check_expn:\n  - deny:\n"
      + "acl_check_etrn:\n  - deny:\n";

  private static PosternTestServer server(String transport) throws Exception {
    return PosternTestServer.create()
        .option("routers", ROUTERS)
        .option("transports", "{ recorder: " + transport + " }")
        .acl(ACCEPT_ALL);
  }

  @Test
  void aPluginTransportGetsTheRequestAndItsAnswersAreLoggedRetriedAndBounced() throws Exception {
    try (PosternTestServer server = server("{ driver: plugin, address: test.deliver.recorder, timeout: 10s }").start();
         PublishedEvents accepted = PublishedEvents.on(server.vertx(), Addresses.event(MessageEvent.Kind.ACCEPTED));
         PublishedEvents delivered = PublishedEvents.on(server.vertx(), Addresses.event(MessageEvent.Kind.DELIVERED));
         PublishedEvents failed = PublishedEvents.on(server.vertx(), Addresses.event(MessageEvent.Kind.FAILED));
         PublishedEvents deferred = PublishedEvents.on(server.vertx(), Addresses.event(MessageEvent.Kind.DEFERRED));
         PublishedEvents bounced = PublishedEvents.on(server.vertx(), Addresses.event(MessageEvent.Kind.BOUNCED))) {
      List<JsonObject> requests = new CopyOnWriteArrayList<>();
      List<String> contents = new CopyOnWriteArrayList<>();
      await(server.vertx().eventBus().<JsonObject>localConsumer("test.deliver.recorder", (Message<JsonObject> m) -> {
        requests.add(m.body());
        try {
          contents.add(Files.readString(Path.of(m.body().getString("data_file")), StandardCharsets.ISO_8859_1));
        } catch (java.io.IOException e) {
          contents.add("unreadable: " + e);
        }
        JsonArray results = new JsonArray();
        for (Object r : m.body().getJsonArray("recipients")) {
          String rcpt = (String) r;
          results.add(rcpt.startsWith("ok") ? result(rcpt, "delivered", 250, "2.0.0", "stored as 42")
              : rcpt.startsWith("bad") ? result(rcpt, "failed", 550, "5.1.1", "no such box")
              : result(rcpt, "deferred", 451, "4.3.0", "archive busy"));
        }
        m.reply(new JsonObject().put("results", results));
      }).completion());

      String id = send(server, "alice@test.example", "Subject: plugin\r\n\r\nhello plugin\r\n",
          "ok@remote.example", "bad@remote.example", "later@remote.example");

      awaitLog(id, "=> ok@remote.example R=to_plugin T=recorder", "C=\"stored as 42\"");
      awaitLog(id, "** bad@remote.example R=to_plugin T=recorder: no such box");
      awaitLog(id, "== later@remote.example R=to_plugin T=recorder defer: archive busy");
      JsonObject request = requests.get(0);
      DeliveryRequest typed = DeliveryRequest.fromJson(request);
      assertEquals(id, typed.id());
      assertEquals("recorder", typed.transport());
      assertEquals("alice@test.example", typed.sender());
      assertEquals(List.of("ok@remote.example", "bad@remote.example", "later@remote.example"), typed.recipients());
      assertEquals(List.of(), typed.hosts(), "an accept router gives no hosts");
      assertTrue(contents.get(0).contains("Subject: plugin\r\n") && contents.get(0).contains("hello plugin"),
          contents.get(0));

      assertEquals(id, accepted.awaitNth(1, 10_000).getString("id"));
      JsonObject ok = delivered.await(10_000, e -> e.getString("recipient").equals("ok@remote.example"));
      assertEquals("to_plugin", ok.getString("router"));
      assertEquals("recorder", ok.getString("transport"));
      assertEquals(250, ok.getInteger("code"));
      assertEquals("no such box", failed.await(10_000, e -> id.equals(e.getString("id"))).getString("text"));
      assertEquals("archive busy", deferred.await(10_000, e -> id.equals(e.getString("id"))).getString("text"));
      // The failure is reported to the sender, as for any transport.
      String bounceId = bounced.await(10_000, e -> id.equals(e.getString("id"))).getString("bounce_id");
      awaitLog(bounceId, "<= <>", "R=" + id);
      assertEquals(1, requests.size(), "one request for the three recipients: " + requests);
    }
  }

  @Test
  void aSilentOrMissingPluginTransportDefersTheRecipients() throws Exception {
    try (PosternTestServer server = server("{ driver: plugin, address: test.deliver.silent, timeout: 300ms }")
        .start()) {
      String missing = send(server, "alice@test.example", "Subject: x\r\n\r\nx\r\n", "nobody@remote.example");
      awaitLog(missing, "== nobody@remote.example R=to_plugin T=recorder defer:",
          "no plugin is deployed on test.deliver.silent");

      List<JsonObject> asked = new CopyOnWriteArrayList<>();
      await(server.vertx().eventBus().<JsonObject>localConsumer("test.deliver.silent", m -> asked.add(m.body()))
          .completion());
      long start = System.nanoTime();
      String silent = send(server, "alice@test.example", "Subject: y\r\n\r\ny\r\n", "someone@remote.example");
      awaitLog(silent, "== someone@remote.example R=to_plugin T=recorder defer:",
          "no answer from test.deliver.silent within");
      long millis = (System.nanoTime() - start) / 1_000_000;
      assertTrue(millis < 10_000, "deferred after " + millis + " ms");
      assertEquals(1, asked.size());
      assertTrue(server.spoolFiles().stream().anyMatch(f -> f.startsWith(silent)), "still queued for a retry");
    }
  }

  @Test
  void aManualrouteRouterGivesAPluginTransportItsHostsWithTheTransportsPort() throws Exception {
    try (PosternTestServer server = PosternTestServer.create()
        .option("routers", "[ { name: local_user, driver: local }, { name: smarthost, driver: manualroute,"
            + " domains: \"!+local_domains\", route_list: \"* 192.0.2.7 : 192.0.2.8::2526\", transport: relay } ]")
        .option("transports", "{ relay: { driver: plugin, port: 2525 } }")
        .acl(ACCEPT_ALL).start()) {
      List<JsonObject> requests = new CopyOnWriteArrayList<>();
      await(server.vertx().eventBus().<JsonObject>localConsumer(Addresses.DELIVER_PREFIX + "relay", m -> {
        requests.add(m.body());
        JsonObject host = m.body().getJsonArray("hosts").getJsonObject(0);
        m.reply(new JsonObject().put("results", new JsonArray().add(result("x@remote.example", "delivered", 250,
            null, "ok").put("host", host))));
      }).completion());
      String id = send(server, "alice@test.example", "Subject: z\r\n\r\nz\r\n", "x@remote.example");
      awaitLog(id, "=> x@remote.example R=smarthost T=relay H=[192.0.2.7]:2525");
      JsonArray hosts = requests.get(0).getJsonArray("hosts");
      assertEquals(2525, hosts.getJsonObject(0).getInteger("port"));
      assertEquals("192.0.2.8", hosts.getJsonObject(1).getString("address"));
      assertEquals(2526, hosts.getJsonObject(1).getInteger("port"));
      server.awaitSpoolEmpty(10_000);
      MainLogFile.ofTestJvm().await(10_000, id, "Completed");
    }
  }

  private static JsonObject result(String address, String status, int code, String enhanced, String text) {
    JsonObject r = new JsonObject().put("address", address).put("status", status).put("code", code).put("text", text);
    return enhanced == null ? r : r.put("enhanced", enhanced);
  }
}
