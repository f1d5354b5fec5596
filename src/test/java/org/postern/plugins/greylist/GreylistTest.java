package org.postern.plugins.greylist;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.postern.cli.VerticleDeployer;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SettableClock;
import org.postern.testing.SmtpTestClient;

import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The bundled greylisting plugin over real SMTP: the README's rcpt ACL with
 * {@code defer: { plugin: greylist, message: "451 4.7.1 ..." }}, clients on loopback addresses
 * that are not relay hosts, and a clock the test moves instead of waiting.
 */
class GreylistTest {
  static final String ACL = "acl_check_rcpt:\n"
      + "  - accept:  { hosts: \":\" }\n"
      + "  - require: { verify: recipient }\n"
      + "  - defer:   { plugin: greylist, message: \"451 4.7.1 $sender_host_address is not yet authorized to deliver"
      + " mail from <$sender_address> to <$local_part@$domain>. Please try later.\" }\n"
      + "  - accept:  { domains: +local_domains }\n"
      + "  - accept:  { hosts: +relay_from_hosts }\n"
      + "  - accept:  { authenticated: \"*\" }\n"
      + "  - deny:    { message: relay not permitted }\n"
      + "acl_check_expn:\n  - deny:\nacl_check_etrn:\n  - deny:\n";

  private final SettableClock clock = new SettableClock(Instant.parse("2026-12-07T00:00:00Z"));

  private static PosternTestServer server() throws Exception {
    return PosternTestServer.create().acl(ACL)
        .option("hostlist", "{ relay_from_hosts: \"<; 127.0.0.9\" }")
        .option("auth_advertise_hosts", "\"*\"")
        .start();
  }

  private void deploy(PosternTestServer server, JsonObject config) throws Exception {
    server.vertx().deployVerticle(new GreylistVerticle(clock), new DeploymentOptions().setConfig(config))
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** One transaction from {@code source}; returns the RCPT reply (and sends the message when it is 250). */
  private static SmtpTestClient.Reply attempt(PosternTestServer server, String source, String sender, String rcpt)
      throws Exception {
    try (SmtpTestClient c = SmtpTestClient.connectFrom(source, server.port())) {
      assertEquals(220, c.reply().code());
      assertEquals(250, c.command("EHLO client.example").code());
      assertEquals(250, c.command("MAIL FROM:<" + sender + ">").code());
      SmtpTestClient.Reply reply = c.command("RCPT TO:<" + rcpt + ">");
      if (reply.code() == 250) {
        assertEquals(354, c.command("DATA").code());
        SmtpTestClient.Reply done = c.command("Subject: greylisted once\r\n\r\nhello\r\n.");
        assertEquals(250, done.code(), done.toString());
      }
      assertEquals(221, c.command("QUIT").code());
      return reply;
    }
  }

  private static void assertGreylisted(SmtpTestClient.Reply reply) {
    assertEquals(451, reply.code(), reply.toString());
    assertEquals("4.7.1", reply.enhanced(), reply.toString());
    assertTrue(reply.text().contains("is not yet authorized to deliver mail from <"), reply.toString());
  }

  @Test
  void firstAttemptAndEarlyRetryAre451TheRetryAfterTheDelayIsDelivered() throws Exception {
    try (PosternTestServer server = server()) {
      deploy(server, new JsonObject());
      assertGreylisted(attempt(server, "127.0.0.2", "sender@example.org", "alice@test.example"));
      clock.advance(Duration.ofMinutes(4));
      assertGreylisted(attempt(server, "127.0.0.2", "sender@example.org", "alice@test.example"));
      // Still counted from the first attempt: the early retry did not restart the delay.
      clock.advance(Duration.ofMinutes(1).plusSeconds(1));
      // Another address of the same /24 is the same client.
      assertEquals(250, attempt(server, "127.0.0.3", "sender@example.org", "alice@test.example").code());
      server.awaitMailbox("alice", 1, 10_000);
      // The confirmed triplet passes at once from then on; a new recipient is greylisted on its own.
      assertEquals(250, attempt(server, "127.0.0.2", "sender@example.org", "alice@test.example").code());
      assertGreylisted(attempt(server, "127.0.0.2", "sender@example.org", "bob@test.example"));
      // Another /24 is another client.
      assertGreylisted(attempt(server, "127.0.1.2", "sender@example.org", "alice@test.example"));
    }
  }

  @Test
  void unconfirmedTripletExpiresAfterTheRetryWindow() throws Exception {
    try (PosternTestServer server = server()) {
      deploy(server, new JsonObject().put("retry_window", "1h"));
      assertGreylisted(attempt(server, "127.0.0.2", "sender@example.org", "alice@test.example"));
      clock.advance(Duration.ofHours(1).plusSeconds(1));
      // Too late: this is a first attempt again, and the delay runs from now.
      assertGreylisted(attempt(server, "127.0.0.2", "sender@example.org", "alice@test.example"));
      clock.advance(Duration.ofMinutes(4));
      assertGreylisted(attempt(server, "127.0.0.2", "sender@example.org", "alice@test.example"));
      clock.advance(Duration.ofMinutes(2));
      assertEquals(250, attempt(server, "127.0.0.2", "sender@example.org", "alice@test.example").code());
    }
  }

  @Test
  void passListKeepsATripletForThePassPeriodSinceLastSeen() throws Exception {
    try (PosternTestServer server = server()) {
      deploy(server, new JsonObject());
      assertGreylisted(attempt(server, "127.0.0.2", "sender@example.org", "alice@test.example"));
      clock.advance(Duration.ofMinutes(6));
      assertEquals(250, attempt(server, "127.0.0.2", "sender@example.org", "alice@test.example").code());
      clock.advance(Duration.ofDays(30));
      assertEquals(250, attempt(server, "127.0.0.2", "sender@example.org", "alice@test.example").code());
      // 30 days after it was last seen, not after it was confirmed: still passed.
      clock.advance(Duration.ofDays(30));
      assertEquals(250, attempt(server, "127.0.0.2", "sender@example.org", "alice@test.example").code());
      clock.advance(Duration.ofDays(36));
      assertGreylisted(attempt(server, "127.0.0.2", "sender@example.org", "alice@test.example"));
    }
  }

  @Test
  void clientWithEnoughConfirmedTripletsPassesForEverything() throws Exception {
    try (PosternTestServer server = server()) {
      deploy(server, new JsonObject().put("auto_pass_clients", 2));
      for (String rcpt : new String[] {"alice@test.example", "bob@test.example"}) {
        assertGreylisted(attempt(server, "127.0.0.2", "sender@example.org", rcpt));
      }
      clock.advance(Duration.ofMinutes(6));
      assertEquals(250, attempt(server, "127.0.0.2", "sender@example.org", "alice@test.example").code());
      // One confirmed triplet is not enough yet.
      assertGreylisted(attempt(server, "127.0.0.2", "other@example.org", "alice@test.example"));
      assertEquals(250, attempt(server, "127.0.0.2", "sender@example.org", "bob@test.example").code());
      // Two: the client's network passes for a sender and recipient it never used.
      assertEquals(250, attempt(server, "127.0.0.4", "new@example.net", "admin@test.example").code());
    }
  }

  @Test
  void authenticatedClientsAndRelayHostsAreExempt() throws Exception {
    try (PosternTestServer server = server()) {
      deploy(server, new JsonObject());
      assertEquals(250, attempt(server, "127.0.0.9", "sender@example.org", "alice@test.example").code());
      try (SmtpTestClient c = SmtpTestClient.connectFrom("127.0.0.2", server.port())) {
        assertEquals(220, c.reply().code());
        assertEquals(250, c.command("EHLO client.example").code());
        String plain = Base64.getEncoder().encodeToString("\0alice\0alice-secret".getBytes());
        SmtpTestClient.Reply auth = c.command("AUTH PLAIN " + plain);
        assertEquals(235, auth.code(), auth.toString());
        assertEquals(250, c.command("MAIL FROM:<sender@example.org>").code());
        assertEquals(250, c.command("RCPT TO:<bob@test.example>").code());
      }
      // Neither attempt was recorded: an unauthenticated client from the same network is greylisted.
      assertGreylisted(attempt(server, "127.0.0.2", "sender@example.org", "bob@test.example"));
    }
  }

  /** Off by default; one verticles.json entry with its config turns it on. A bad option stops it, named. */
  @Test
  void enabledByOneVerticlesEntryAndBadOptionsAreRefusedByName() throws Exception {
    try (PosternTestServer server = server()) {
      assertEquals(451, attempt(server, "127.0.0.2", "sender@example.org", "alice@test.example").code(),
          "not deployed: the plugin condition defers, with the rule's own code");
      JsonArray bad = new JsonArray().add(new JsonObject().put("name", GreylistVerticle.class.getName())
          .put("config", new JsonObject().put("delay", "5x")));
      ExecutionException e = assertThrows(ExecutionException.class, () -> VerticleDeployer
          .deploy(server.vertx(), bad, server.confDir().resolve("postern.yaml"), n -> true)
          .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS));
      assertTrue(e.getCause().getMessage().contains("greylist: delay: not a time"), e.getCause().getMessage());
      JsonArray good = new JsonArray().add(new JsonObject().put("name", GreylistVerticle.class.getName())
          .put("config", new JsonObject().put("delay", "0s")));
      VerticleDeployer.deploy(server.vertx(), good, server.confDir().resolve("postern.yaml"), n -> true)
          .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertGreylisted(attempt(server, "127.0.0.2", "sender@example.org", "alice@test.example"));
      assertEquals(250, attempt(server, "127.0.0.2", "sender@example.org", "alice@test.example").code());
    }
  }
}
