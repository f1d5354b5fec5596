package org.postern.admin;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.postern.config.ConfigHolder;
import org.postern.spool.MessageLock;
import org.postern.spool.Spool;
import org.postern.testing.Await;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The admin HTTP API against a real server ({@code queue_only}, so accepted messages stay queued)
 * over real sockets: who is served, the queue views and actions, sessions, readiness and the
 * configuration. On loopback, 127.0.0.0/8 is all loopback (a client bound to 127.0.0.2 is a
 * loopback client); a non-loopback client is this machine's own non-loopback address (the listener
 * on 0.0.0.0), and those tests are skipped on a machine without one.
 */
class AdminApiTest {
  private static final String TOKEN = "t0ken-" + Long.toHexString(System.nanoTime());

  private PosternTestServer server;

  @AfterEach
  void tearDown() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  private PosternTestServer start(String address, boolean withToken) throws Exception {
    server = PosternTestServer.create().option("queue_only", "true")
        .option("admin_listener", "{ address: \"" + address + "\", port: 0 }");
    if (withToken) {
      Files.writeString(server.confDir().resolve("admin.token"), TOKEN + "\n");
      server.option("admin_token_file", "admin.token");
    }
    return server.start();
  }

  private int adminPort() {
    return server.vertx().sharedData().<String, Integer>getLocalMap(AdminVerticle.PORT).get("port");
  }

  private AdminHttp admin() {
    return AdminHttp.to(adminPort());
  }

  private Spool spool() {
    return new Spool(server.root().resolve("spool"));
  }

  /** An IPv4 address of this machine that is not loopback, if it has one. */
  private static Optional<String> nonLoopbackAddress() throws Exception {
    return NetworkInterface.networkInterfaces().filter(i -> {
      try {
        return i.isUp() && !i.isLoopback();
      } catch (java.net.SocketException e) {
        return false;
      }
    }).flatMap(NetworkInterface::inetAddresses).filter(a -> a instanceof Inet4Address && !a.isLoopbackAddress())
        .map(InetAddress::getHostAddress).findFirst();
  }

  // ------------------------------------------------------------------ access

  @Test
  void withoutATokenFileOnlyLoopbackClientsAreServed() throws Exception {
    start("0.0.0.0", false);
    String id = server.accept("<sender@example.net>", "alice@test.example");
    try (AdminHttp local = admin(); AdminHttp second = AdminHttp.from("127.0.0.2", "127.0.0.1", adminPort())) {
      assertEquals(200, local.get("/health").status());
      AdminHttp.Answer fromSecond = second.get("/queue");
      assertEquals(200, fromSecond.status(), fromSecond::toString);
      assertEquals(1, fromSecond.json().getInteger("total"));
    }
    Optional<String> outside = nonLoopbackAddress();
    assumeTrue(outside.isPresent(), "no non-loopback address on this machine");
    try (AdminHttp remote = AdminHttp.from(outside.get(), outside.get(), adminPort())) {
      AdminHttp.Answer health = remote.get("/health");
      assertEquals(403, health.status(), health::toString);
      assertEquals(403, remote.get("/").status());
      AdminHttp.Answer freeze = remote.post("/queue/" + id + "/freeze");
      assertEquals(403, freeze.status(), freeze::toString);
    }
    assertFalse(spool().readEnvelope(id).frozen(), "a refused client froze the message");
  }

  @Test
  void crossSiteAndRebindingRequestsAreRefusedWithoutAToken() throws Exception {
    start("127.0.0.1", false);
    String id = server.accept("<sender@example.net>", "alice@test.example");
    try (AdminHttp local = admin()) {
      AdminHttp.Answer crossSite = local.send(io.vertx.core.http.HttpMethod.POST, "/queue/" + id + "/freeze",
          "Origin", "http://evil.example");
      assertEquals(403, crossSite.status(), crossSite::toString);
      AdminHttp.Answer rebound = local.send(io.vertx.core.http.HttpMethod.GET, "/queue", "Host", "evil.example:8025");
      assertEquals(403, rebound.status(), rebound::toString);
      AdminHttp.Answer sameSite = local.send(io.vertx.core.http.HttpMethod.GET, "/queue",
          "Origin", "http://127.0.0.1:" + adminPort());
      assertEquals(200, sameSite.status(), sameSite::toString);
    }
    assertFalse(spool().readEnvelope(id).frozen(), "a cross-site request froze the message");
  }

  @Test
  void withATokenFileEveryRequestNeedsTheBearerTokenFromEveryAddress() throws Exception {
    start("0.0.0.0", true);
    String id = server.accept("<sender@example.net>", "alice@test.example");
    try (AdminHttp local = admin()) {
      AdminHttp.Answer none = local.get("/queue");
      assertEquals(401, none.status(), none::toString);
      assertTrue(none.authenticate() != null && none.authenticate().startsWith("Bearer"), none::toString);
      assertEquals(401, local.token(TOKEN + "x").get("/queue").status());
      assertEquals(401, local.token(TOKEN.substring(1)).get("/health").status());
      assertEquals(401, local.token(null).post("/queue/" + id + "/freeze").status());
      assertFalse(spool().readEnvelope(id).frozen(), "a request without the token froze the message");
      assertEquals(200, local.token(TOKEN).get("/queue").status());
      // The page itself holds no data: it loads, and asks for the token.
      assertEquals(200, local.token(null).get("/").status());

      // A new token is in force at the next request.
      Files.writeString(server.confDir().resolve("admin.token"), "n3w-" + TOKEN + "\n");
      assertEquals(401, local.token(TOKEN).get("/queue").status());
      assertEquals(200, local.token("n3w-" + TOKEN).get("/queue").status());
    }
    Optional<String> outside = nonLoopbackAddress();
    assumeTrue(outside.isPresent(), "no non-loopback address on this machine");
    try (AdminHttp remote = AdminHttp.from(outside.get(), outside.get(), adminPort())) {
      assertEquals(401, remote.get("/queue").status());
      assertEquals(401, remote.post("/queue/" + id + "/freeze").status());
      assertFalse(spool().readEnvelope(id).frozen(), "a remote request without the token froze the message");
      assertEquals(200, remote.token("n3w-" + TOKEN).get("/queue").status());
    }
  }

  // ------------------------------------------------------------------ /queue

  @Test
  void queueFiltersAsExiqgrepAndPages() throws Exception {
    start("127.0.0.1", false);
    String a = server.accept("<alice@example.net>", "bob@test.example");
    String b = server.accept("<carol@example.org>", "alice@test.example", "admin@test.example");
    String c = server.accept("<>", "alice@test.example");
    try (AdminHttp http = admin()) {
      assertEquals(200, http.post("/queue/" + b + "/freeze").status());
      assertEquals(List.of(a, b, c), ids(http.get("/queue")));
      assertEquals(List.of(b), ids(http.get("/queue?sender=CAROL@")));
      assertEquals(List.of(b, c), ids(http.get("/queue?recipient=%5Ealice@")));
      assertEquals(List.of(b), ids(http.get("/queue?frozen=true")));
      assertEquals(List.of(a, c), ids(http.get("/queue?frozen=false")));
      assertEquals(List.of(a, b, c), ids(http.get("/queue?younger=3600")));
      assertEquals(List.of(), ids(http.get("/queue?older=3600")));
      AdminHttp.Answer page = http.get("/queue?limit=1&offset=1");
      assertEquals(List.of(b), ids(page));
      assertEquals(3, page.json().getInteger("total"));
      assertEquals(3, page.json().getInteger("matched"));
      assertEquals(1, page.json().getInteger("frozen"));
      assertEquals(List.of(), ids(http.get("/queue?offset=5")));
      JsonObject first = http.get("/queue?limit=1").json().getJsonArray("messages").getJsonObject(0);
      assertEquals("alice@example.net", first.getString("sender"));
      assertEquals(new JsonArray().add(new JsonObject().put("address", "bob@test.example").put("state", "pending")),
          first.getJsonArray("recipients"));
      for (String bad : List.of("sender=(", "older=-1", "limit=x", "frozen=yes")) {
        AdminHttp.Answer refused = http.get("/queue?" + bad);
        assertEquals(400, refused.status(), () -> bad + ": " + refused);
      }

      AdminHttp.Answer shown = http.get("/queue/" + a);
      assertEquals(200, shown.status(), shown::toString);
      assertEquals("alice@example.net", shown.json().getJsonObject("envelope").getString("sender"));
      assertTrue(shown.json().getString("headers").contains("Subject: queued\r\n"), shown::toString);
      assertFalse(shown.json().getString("headers").contains("body"), shown::toString);
      assertEquals(404, http.get("/queue/1zzzzz-zzzzzz-zzzz").status());
      assertEquals(404, http.get("/queue/..%2F..%2Fetc").status());
      assertEquals(404, http.post("/queue/" + a + "/explode").status());
    }
  }

  private static List<String> ids(AdminHttp.Answer answer) {
    assertEquals(200, answer.status(), answer::toString);
    return answer.json().getJsonArray("messages").stream().map(m -> ((JsonObject) m).getString("id")).toList();
  }

  @Test
  void aLockedMessageIsNeitherFrozenNorRemovedThroughTheApi() throws Exception {
    start("127.0.0.1", false);
    String id = server.accept("<sender@example.net>", "alice@test.example");
    try (AdminHttp http = admin(); MessageLock held = MessageLock.tryLock(spool(), id).orElseThrow()) {
      AdminHttp.Answer freeze = http.post("/queue/" + id + "/freeze");
      assertEquals(409, freeze.status(), freeze::toString);
      assertEquals("locked", freeze.json().getString("outcome"));
      assertEquals(409, http.post("/queue/" + id + "/remove").status());
    }
    assertFalse(spool().readEnvelope(id).frozen());
    assertTrue(spool().exists(id));
  }

  // ------------------------------------------------------------------ /sessions, /ready, /config

  @Test
  void sessionsShowALiveSmtpSession() throws Exception {
    start("127.0.0.1", false);
    try (AdminHttp http = admin()) {
      assertEquals(0, http.get("/sessions").json().getInteger("count"));
      try (SmtpTestClient c = SmtpTestClient.connect(server.port())) {
        assertEquals(220, c.reply().code());
        assertEquals(250, c.command("EHLO client.example").code());
        assertEquals(250, c.command("MAIL FROM:<sender@example.net>").code());
        JsonObject listed = http.get("/sessions").json();
        assertEquals(1, listed.getInteger("count"), listed::encode);
        JsonObject s = listed.getJsonArray("sessions").getJsonObject(0);
        assertTrue(s.getString("client").startsWith("[127.0.0.1]:"), s::encode);
        assertEquals("smtp", s.getString("listener"));
        assertEquals("mail", s.getString("state"));
        assertNull(s.getString("tls_cipher"));
        assertNull(s.getString("authenticated_id"));
        assertTrue(s.getLong("age_seconds") >= 0, s::encode);
        assertEquals(221, c.command("QUIT").code());
      }
      Await.until("the session gone from /sessions", 10_000, () -> http.get("/sessions").json().getInteger("count") == 0);
    }
  }

  @Test
  void readyFailsWhenTheSpoolIsNotWritable() throws Exception {
    start("127.0.0.1", false);
    try (AdminHttp http = admin()) {
      AdminHttp.Answer up = http.get("/ready");
      assertEquals(200, up.status(), up::toString);
      assertEquals("UP", up.json().getString("status"));
      Path input = spool().inputDirectory();
      Path aside = input.resolveSibling("input.aside");
      // Root ignores permissions: a file where the directory was is what even root cannot write into.
      Files.move(input, aside);
      Files.writeString(input, "not a directory");
      AdminHttp.Answer down = http.get("/ready");
      assertEquals(503, down.status(), down::toString);
      assertEquals("DOWN", down.json().getString("status"));
      assertTrue(down.text().contains("spool not writable"), down::toString);
      Files.delete(input);
      Files.move(aside, input);
      assertEquals(200, http.get("/ready").status());
      assertEquals(200, http.get("/health").status());
    }
  }

  @Test
  void configShowsTheGenerationAndTheLastRefusalAfterAReload() throws Exception {
    start("127.0.0.1", false);
    ConfigHolder holder = ConfigHolder.of(server.vertx());
    try (AdminHttp http = admin()) {
      JsonObject config = http.get("/config").json();
      assertEquals(holder.current().generation(), config.getString("generation"));
      assertNotNull(config.getLong("loaded_at"));
      assertNull(config.getValue("last_refusal"));

      Path main = server.confDir().resolve("postern.yaml");
      String good = Files.readString(main, StandardCharsets.UTF_8);
      Files.writeString(main, good + "message_size_limit: 50X\n");
      AdminHttp.Answer refused = http.post("/config/reload");
      assertEquals(422, refused.status(), refused::toString);
      int line = (int) good.lines().count() + 1;
      String where = "postern.yaml:" + line + ": message_size_limit";
      assertTrue(refused.json().getString("error").contains(where), refused::toString);
      JsonObject after = Await.value(10_000, () -> http.get("/config").json(), j -> j.getValue("last_refusal") != null);
      assertEquals(config.getString("generation"), after.getString("generation"));
      assertTrue(after.getJsonObject("last_refusal").getString("error").contains(where), after::encode);

      Files.writeString(main, good + "message_size_limit: 20M\n");
      AdminHttp.Answer reloaded = http.post("/config/reload");
      assertEquals(200, reloaded.status(), reloaded::toString);
      assertEquals(holder.current().generation(), reloaded.json().getString("generation"));
      assertFalse(config.getString("generation").equals(reloaded.json().getString("generation")));
      assertEquals(reloaded.json().getString("generation"), http.get("/config").json().getString("generation"));
    }
  }

  @Test
  void aChangedAdminListenerIsRebound() throws Exception {
    start("127.0.0.1", false);
    int before = adminPort();
    int moved = org.postern.testing.ChildPostern.freePort();
    Path main = server.confDir().resolve("postern.yaml");
    String text = Files.readString(main, StandardCharsets.UTF_8);
    assertTrue(text.contains("port: 0 }"), text);
    Files.writeString(main, text.replace("admin_listener: { address: \"127.0.0.1\", port: 0 }",
        "admin_listener: { address: \"127.0.0.1\", port: " + moved + " }"));
    Await.until("the admin listener on port " + moved, 15_000, () -> Integer.valueOf(moved).equals(
        server.vertx().sharedData().<String, Integer>getLocalMap(AdminVerticle.PORT).get("port")));
    try (AdminHttp http = AdminHttp.to(moved)) {
      assertEquals(200, http.get("/health").status());
    }
    try (java.net.Socket old = new java.net.Socket()) {
      assertThrows(java.io.IOException.class, () -> old.connect(new java.net.InetSocketAddress("127.0.0.1", before), 2000));
    }
  }
}
