package org.postern.queue;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import org.postern.testing.Await;
import org.postern.testing.MainLogFile;
import org.postern.testing.PosternTestServer;
import org.postern.testing.ScriptedSmtpServer;
import org.postern.testing.SmtpTestClient;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Shared steps of the outbound delivery tests: sending through a Postern, reading its main log. */
final class RelayTesting {
  /** A transport that gives up quickly on a dead scripted server. */
  static final String TRANSPORTS = "{ remote_smtp: { driver: smtp, connect_timeout: 5s, command_timeout: 5s } }";

  private RelayTesting() {
  }

  /** routers: local, then manualroute of every non-local domain to {@code hosts}. */
  static String manualroute(String hosts) {
    return "[ { name: local_user, driver: local }, { name: smarthost, driver: manualroute, domains: \"!+local_domains\", "
        + "route_list: \"* " + hosts + "\", transport: remote_smtp } ]";
  }

  static String dnslookup() {
    return "[ { name: local_user, driver: local }, { name: dnslookup, driver: dnslookup, domains: \"!+local_domains\", "
        + "transport: remote_smtp } ]";
  }

  static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  /** Sends one message from 127.0.0.1 and returns its spool id. */
  static String send(PosternTestServer server, String from, String content, String... to) throws Exception {
    return send(server.port(), from, content, to);
  }

  /** Sends one message to the Postern listening on {@code port} and returns its spool id. */
  static String send(int port, String from, String content, String... to) throws Exception {
    try (SmtpTestClient c = SmtpTestClient.connect(port)) {
      assertEquals(220, c.reply().code());
      assertEquals(250, c.command("EHLO client.example").code());
      assertEquals(250, c.command("MAIL FROM:<" + from + ">").code());
      for (String rcpt : to) {
        SmtpTestClient.Reply r = c.command("RCPT TO:<" + rcpt + ">");
        assertEquals(250, r.code(), r.toString());
      }
      assertEquals(354, c.command("DATA").code());
      SmtpTestClient.Reply done = c.command(content + ".");
      assertEquals(250, done.code(), done.toString());
      c.command("QUIT");
      String text = done.text();
      return text.substring(text.indexOf("id=") + 3).strip();
    }
  }

  static List<String> mainlog(String id) throws IOException {
    return MainLogFile.ofTestJvm().lines(id);
  }

  /** The first main-log line of the message containing all the texts, waiting up to 20 s. */
  static String awaitLog(String id, String... texts) throws Exception {
    List<String> all = new ArrayList<>(List.of(texts));
    all.add(id);
    return MainLogFile.ofTestJvm().await(20_000, all.toArray(String[]::new));
  }

  static void awaitTrue(String what, BooleanSupplier condition) throws Exception {
    Await.until(what, 20_000, condition::getAsBoolean);
  }

  /**
   * A queue run with this request body, repeated until it starts a delivery (a run skips a message
   * whose previous attempt is still finishing), and waited for when the body says {@code wait}.
   */
  static JsonObject runUntilStarted(PosternTestServer server, JsonObject body) throws Exception {
    JsonObject reply = Await.value(10_000, () -> await(server.vertx().eventBus().<JsonObject>request(
        org.postern.bus.Addresses.QUEUE_FLUSH, body)).body(), r -> r.getInteger("started", 0) > 0);
    if (reply.getInteger("started", 0) == 0) {
      throw new AssertionError("no delivery started by " + body);
    }
    return reply;
  }

  static JsonObject envelope(PosternTestServer server, String id) throws IOException {
    return new JsonObject(Files.readString(server.spoolInput().resolve(id + "-H")));
  }

  /** State of each recipient in the envelope file, "address=state", in envelope order. */
  static List<String> states(PosternTestServer server, String id) throws IOException {
    var rcpts = envelope(server, id).getJsonArray("recipients");
    List<String> out = new ArrayList<>();
    for (int i = 0; i < rcpts.size(); i++) {
      out.add(rcpts.getJsonObject(i).getString("address") + "=" + rcpts.getJsonObject(i).getString("state"));
    }
    return out;
  }

  static ScriptedSmtpServer started(io.vertx.core.Vertx vertx, ScriptedSmtpServer s) throws Exception {
    return await(s.start(vertx));
  }

  static void assertSpoolEmpty(PosternTestServer server) throws Exception {
    awaitTrue("empty spool", () -> {
      try {
        return server.spoolFiles().isEmpty();
      } catch (IOException e) {
        return false;
      }
    });
    assertTrue(server.spoolFiles().isEmpty());
  }

  /** A bounce in a maildir file, parsed with Angus Mail. */
  record Report(String subject, String contentType, String text, String status, String headers) {
  }

  static Report report(Path file) throws Exception {
    jakarta.mail.internet.MimeMessage m;
    try (var in = Files.newInputStream(file)) {
      m = new jakarta.mail.internet.MimeMessage(jakarta.mail.Session.getInstance(new java.util.Properties()), in);
    }
    jakarta.mail.internet.MimeMultipart parts = (jakarta.mail.internet.MimeMultipart) m.getContent();
    assertEquals(3, parts.getCount());
    String text = String.valueOf(parts.getBodyPart(0).getContent());
    assertTrue(parts.getBodyPart(1).isMimeType("message/delivery-status"), parts.getBodyPart(1).getContentType());
    String status = new String(parts.getBodyPart(1).getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
    String headers = new String(parts.getBodyPart(2).getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
    return new Report(m.getSubject(), m.getContentType(), text, status, headers);
  }
}
