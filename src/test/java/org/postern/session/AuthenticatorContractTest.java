package org.postern.session;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postern.auth.AuthVerticle;
import org.postern.bus.Addresses;
import org.postern.bus.AuthCancel;
import org.postern.bus.AuthReply;
import org.postern.bus.AuthStep;
import org.postern.bus.BusCodecs;
import org.postern.testing.InMemorySmtp;
import org.postern.testing.MainLogFile;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient.Reply;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The session's side of {@code postern.auth.*}, against an authenticator that answers from a
 * script instead of {@link AuthVerticle} (as a plugin mechanism would): what the session sends in
 * each {@link AuthStep}, and what each {@link AuthReply} makes it tell the client.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class AuthenticatorContractTest {
  private static final BlockingQueue<AuthStep> STEPS = new LinkedBlockingQueue<>();
  private static final BlockingQueue<AuthCancel> CANCELS = new LinkedBlockingQueue<>();
  private static final Queue<AuthReply> SCRIPT = new ConcurrentLinkedQueue<>();
  private static final String CLIENT = "192.0.2.44";

  private static PosternTestServer server;

  /** Answers each PLAIN step with the next reply of {@link #SCRIPT} and records what it got. */
  static final class ScriptedAuthenticator extends VerticleBase {
    @Override
    public Future<?> start() {
      BusCodecs.register(vertx);
      return Future.all(
          vertx.eventBus().<AuthStep>localConsumer(Addresses.AUTH_PREFIX + "PLAIN", m -> {
            STEPS.add(m.body());
            m.reply(SCRIPT.remove());
          }).completion(),
          vertx.eventBus().<AuthCancel>localConsumer(Addresses.AUTH_CANCEL, m -> CANCELS.add(m.body())).completion());
    }
  }

  @BeforeAll
  static void start() throws Exception {
    server = PosternTestServer.create().option("auth_advertise_hosts", "\"*\"")
        .option("smtp_auth_failure_delay", "0s").option("smtp_max_auth_failures", "1")
        .replace(AuthVerticle.class.getName(), ScriptedAuthenticator::new).startSessions();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @BeforeEach
  void clear() {
    STEPS.clear();
    CANCELS.clear();
    SCRIPT.clear();
  }

  /** A challenge goes out as 334 base64, the client's answer comes back decoded, success is 235. */
  @Test
  void challengeResponseAndSuccess() throws Exception {
    SCRIPT.add(AuthReply.challenge("token?".getBytes(StandardCharsets.UTF_8)));
    SCRIPT.add(AuthReply.success("alice@test.example", List.of()));
    try (InMemorySmtp c = greeted()) {
      Reply challenge = c.command("AUTH PLAIN");
      assertEquals(334, challenge.code(), challenge::toString);
      assertEquals(List.of(Base64.getEncoder().encodeToString("token?".getBytes(StandardCharsets.UTF_8))),
          challenge.lines());
      AuthStep first = STEPS.poll(5, TimeUnit.SECONDS);
      assertNotNull(first);
      assertTrue(first.first());
      assertEquals("PLAIN", first.mechanism());
      assertNull(first.response(), "no initial response was sent");
      assertEquals(CLIENT, first.variables().getString("sender_host_address"));

      byte[] credentials = "\0alice\0secret".getBytes(StandardCharsets.UTF_8);
      Reply done = c.command(Base64.getEncoder().encodeToString(credentials));
      assertEquals(235, done.code(), done::toString);
      assertEquals("2.7.0", done.enhanced());
      AuthStep second = STEPS.poll(5, TimeUnit.SECONDS);
      assertNotNull(second);
      assertFalse(second.first());
      assertEquals(first.exchange(), second.exchange());
      assertArrayEquals(credentials, second.response());
      Reply again = c.command("AUTH PLAIN =");
      assertEquals(503, again.code(), "the session holds the authenticated id: " + again);
    }
  }

  /**
   * An authenticator's own code is sent (a temporary failure, RFC 4954 6: 454 4.7.0), and a
   * failure it does not count leaves the session alone where a counted one ends it.
   */
  @Test
  void theAuthenticatorsCodeIsSentAndOnlyCountedFailuresCount() throws Exception {
    SCRIPT.add(AuthReply.temporaryFailure("token service did not answer"));
    SCRIPT.add(AuthReply.failure("alice", "token expired"));
    MainLogFile log = MainLogFile.ofTestJvm().fromNow();
    try (InMemorySmtp c = greeted()) {
      Reply temporary = c.command("AUTH PLAIN AGFsaWNlAHNlY3JldA==");
      assertEquals(454, temporary.code(), temporary::toString);
      assertEquals("4.7.0", temporary.enhanced());
      log.await(5000, "token service did not answer (not counted as a failure)");
      assertEquals(250, c.command("NOOP").code(), "smtp_max_auth_failures is 1, but nothing was counted");

      Reply counted = c.command("AUTH PLAIN AGFsaWNlAHdyb25n");
      assertEquals(421, counted.code(), counted::toString);
      assertTrue(c.closedByServer(Duration.ofSeconds(5)), "the first counted failure reaches smtp_max_auth_failures");
      log.await(5000, "(set_id=alice): token expired; too many failures, connection dropped");
    }
  }

  /** "*" ends the exchange: the client gets 501, every authenticator is told to forget it. */
  @Test
  void cancelIsPublished() throws Exception {
    SCRIPT.add(AuthReply.challenge(new byte[0]));
    try (InMemorySmtp c = greeted()) {
      assertEquals(334, c.command("AUTH PLAIN").code());
      Reply cancelled = c.command("*");
      assertEquals(501, cancelled.code(), cancelled::toString);
      AuthCancel cancel = CANCELS.poll(5, TimeUnit.SECONDS);
      assertNotNull(cancel, "no postern.auth.cancel");
      assertEquals(STEPS.remove().exchange(), cancel.exchange());
    }
  }

  private static InMemorySmtp greeted() throws Exception {
    InMemorySmtp c = InMemorySmtp.connectFrom(server, CLIENT);
    assertEquals(220, c.reply().code());
    assertEquals(250, c.command("EHLO client.example").code());
    return c;
  }
}
