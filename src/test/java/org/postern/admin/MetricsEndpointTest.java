package org.postern.admin;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.postern.config.ConfigHolder;
import org.postern.queue.QueueListing;
import org.postern.spool.Envelope;
import org.postern.spool.Spool;
import org.postern.testing.Await;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient;
import org.postern.testing.TestPki;
import org.postern.testing.TlsSmtp;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code GET /metrics} after real SMTP sessions over real sockets: the counts are exactly those of
 * the session (parsed back from the Prometheus text), the token rules are the admin API's.
 */
class MetricsEndpointTest {
  private static final String TOKEN = "m3trics-" + Long.toHexString(System.nanoTime());

  private PosternTestServer server;

  @AfterEach
  void tearDown() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  private PosternTestServer start(PosternTestServer s) throws Exception {
    server = s.option("admin_listener", "{ address: 127.0.0.1, port: 0 }");
    Files.writeString(server.confDir().resolve("admin.token"), TOKEN + "\n");
    server.option("admin_token_file", "admin.token");
    return server.start();
  }

  private AdminHttp admin() {
    return AdminHttp.to(server.vertx().sharedData().<String, Integer>getLocalMap(AdminVerticle.PORT).get("port"))
        .token(TOKEN);
  }

  private static Exposition scrape(AdminHttp http) throws Exception {
    AdminHttp.Answer a = http.get("/metrics");
    assertEquals(200, a.status(), a::toString);
    return new Exposition(a.text());
  }

  private static void expect(Exposition e, double expected, String name, String... labels) {
    assertEquals(Double.valueOf(expected), e.value(name, labels), () -> name + " " + String.join(",", labels)
        + " among " + e.seriesOf(name));
  }

  @Test
  void aScriptedSessionShowsItsExactCounts() throws Exception {
    start(PosternTestServer.create().option("queue_only", "true"));
    try (SmtpTestClient c = SmtpTestClient.connect(server.port())) {
      assertEquals(220, c.reply().code());
      assertEquals(250, c.command("EHLO client.example").code());
      assertEquals(250, c.command("MAIL FROM:<sender@remote.example>").code());
      SmtpTestClient.Reply unknown = c.command("RCPT TO:<nobody@test.example>");
      assertEquals(550, unknown.code(), unknown::toString);
      assertEquals(250, c.command("RCPT TO:<alice@test.example>").code());
      assertEquals(354, c.command("DATA").code());
      assertEquals(250, c.command("Subject: metered\r\n\r\nOne line.\r\n.").code());
      assertEquals(500, c.command("FROBNICATE now").code());
      assertEquals(221, c.command("QUIT").code());
    }
    List<Envelope> queued = QueueListing.read(new Spool(server.root().resolve("spool")));
    assertEquals(1, queued.size());
    try (AdminHttp http = admin()) {
      Exposition e = Await.value(10_000, () -> scrape(http),
          x -> Double.valueOf(0).equals(x.value("postern_connections_open", "listener", "smtp")));
      expect(e, 0, "postern_connections_open", "listener", "smtp");
      expect(e, 1, "postern_connections_accepted_total", "listener", "smtp");
      for (String verb : List.of("EHLO", "MAIL", "DATA", "QUIT")) {
        expect(e, 1, "postern_smtp_commands_total", "verb", verb);
      }
      expect(e, 2, "postern_smtp_commands_total", "verb", "RCPT");
      expect(e, 1, "postern_smtp_commands_total", "verb", "other");
      expect(e, 1, "postern_smtp_replies_total", "command", "greeting", "class", "2xx");
      expect(e, 1, "postern_smtp_replies_total", "command", "RCPT", "class", "2xx");
      expect(e, 1, "postern_smtp_replies_total", "command", "RCPT", "class", "5xx");
      expect(e, 1, "postern_smtp_replies_total", "command", "DATA", "class", "3xx");
      expect(e, 1, "postern_smtp_replies_total", "command", "end_of_data", "class", "2xx");
      expect(e, 1, "postern_smtp_replies_total", "command", "other", "class", "5xx");
      expect(e, 1, "postern_acl_verdicts_total", "stage", "rcpt", "verdict", "deny");
      expect(e, 1, "postern_acl_verdicts_total", "stage", "rcpt", "verdict", "accept");
      expect(e, 1, "postern_messages_accepted_total");
      expect(e, queued.get(0).size(), "postern_messages_accepted_size_bytes_total");
      assertEquals(0, e.sum("postern_messages_rejected_total"), e::toString);
      expect(e, 1, "postern_queue_messages");
      expect(e, 0, "postern_queue_frozen_messages");
      assertTrue(e.value("postern_queue_oldest_message_age_seconds") >= 0, e::toString);
      expect(e, 0, "postern_retry_records");
      expect(e, 1, "postern_config_info", "generation", ConfigHolder.of(server.vertx()).current().generation());
      assertTrue(e.has("jvm_memory_used_bytes"), "JVM binders");
      assertTrue(e.has("vertx_net_server_active_connections"), "Vert.x's own meters");
      assertTrue(e.has("netty_eventexecutor_tasks_pending"), "the event loops");
      assertTrue(e.toString().lines().noneMatch(l -> l.contains("remote=") || l.contains("local=")),
          "no address labels");

      assertEquals(202, http.post("/queue/" + queued.get(0).id() + "/deliver").status());
      Exposition delivered = Await.value(10_000, () -> scrape(http),
          x -> x.value("postern_queue_messages") == 0 && x.sum("postern_deliveries_total") == 1);
      expect(delivered, 1, "postern_deliveries_total", "transport", "maildir", "outcome", "delivered");
      expect(delivered, 0, "postern_queue_messages");
    }
  }

  @Test
  void tlsSessionsAndAuthOutcomesAreCountedByProtocolCipherAndMechanism() throws Exception {
    TestPki pki = TestPki.shared();
    PosternTestServer s = PosternTestServer.create().users("alice:{PLAIN}s3cret-metrics");
    Path certs = s.root().resolve("certs");
    TestPki.ServerFiles files = pki.writeServer(certs, "server", pki.server());
    s.option("tls_certificate", "\"" + files.certificate().toAbsolutePath() + "\"")
        .option("tls_privatekey", "\"" + files.key().toAbsolutePath() + "\"")
        .option("tls_on_connect_ports", "\"\"")
        .option("smtp_auth_failure_delay", "0s");
    start(s);
    String protocol;
    String cipher;
    try (TlsSmtp c = TlsSmtp.connect(server.port())) {
      c.ehlo("client.example");
      c.startTls(pki.clientContext());
      protocol = c.session().getProtocol();
      cipher = c.session().getCipherSuite();
      c.ehlo("client.example");
      TlsSmtp.expect(535, c.command("AUTH PLAIN " + plain("alice", "wrong")));
      TlsSmtp.expect(235, c.command("AUTH PLAIN " + plain("alice", "s3cret-metrics")));
      TlsSmtp.expect(221, c.command("QUIT"));
    }
    try (AdminHttp http = admin()) {
      Exposition e = Await.value(10_000, () -> scrape(http),
          x -> x.sum("postern_auth_attempts_total") == 2 && x.sum("postern_tls_sessions_total") == 1);
      expect(e, 1, "postern_tls_sessions_total", "listener", "smtp", "protocol", protocol, "cipher", cipher);
      expect(e, 1, "postern_auth_attempts_total", "mechanism", "PLAIN", "result", "failure");
      expect(e, 1, "postern_auth_attempts_total", "mechanism", "PLAIN", "result", "success");
      assertEquals(0, e.sum("postern_tls_failures_total"), e::toString);
    }
  }

  private static String plain(String user, String password) {
    return Base64.getEncoder().encodeToString(("\0" + user + "\0" + password).getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void aRefusedReloadIsCounted() throws Exception {
    start(PosternTestServer.create());
    try (AdminHttp http = admin()) {
      expect(scrape(http), 0, "postern_config_reload_failures_total");
      Path main = server.confDir().resolve("postern.yaml");
      Files.writeString(main, Files.readString(main, StandardCharsets.UTF_8) + "message_size_limit: 50X\n");
      assertEquals(422, http.post("/config/reload").status());
      Exposition e = Await.value(10_000, () -> scrape(http),
          x -> x.value("postern_config_reload_failures_total") > 0);
      expect(e, 1, "postern_config_reload_failures_total");
    }
  }

  @Test
  void aConnectionOverTheLimitIsCountedByItsLimit() throws Exception {
    start(PosternTestServer.create().option("smtp_accept_max", "1"));
    try (SmtpTestClient first = SmtpTestClient.connect(server.port());
         SmtpTestClient second = SmtpTestClient.connect(server.port());
         AdminHttp http = admin()) {
      assertEquals(220, first.reply().code());
      assertEquals(421, second.reply().code());
      Exposition e = Await.value(10_000, () -> scrape(http),
          x -> x.sum("postern_connections_refused_total") > 0);
      expect(e, 1, "postern_connections_refused_total", "limit", "smtp_accept_max");
      expect(e, 1, "postern_connections_accepted_total", "listener", "smtp");
    }
  }

  @Test
  void withATokenFileMetricsNeedTheToken() throws Exception {
    start(PosternTestServer.create());
    try (AdminHttp http = AdminHttp.to(server.vertx().sharedData().<String, Integer>getLocalMap(AdminVerticle.PORT)
        .get("port"))) {
      AdminHttp.Answer a = http.get("/metrics");
      assertEquals(401, a.status(), a::toString);
      assertEquals("Bearer realm=\"postern\"", a.authenticate());
      assertEquals(401, http.token("wrong").get("/metrics").status());
      assertEquals(200, http.token(TOKEN).get("/metrics").status());
    }
  }
}
