package org.postern.session;

import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postern.bus.Addresses;
import org.postern.testing.InMemorySmtp;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * ETRN (RFC 1985) in memory ({@link InMemorySmtp}) against the real session tier, with no queue: a
 * stand-in consumer of {@code postern.queue.flush}, registered in the server's Vert.x, records each
 * request and answers as the test says.
 */
class EtrnTest {
  private PosternTestServer server;
  private final List<JsonObject> requests = new CopyOnWriteArrayList<>();
  private MessageConsumer<JsonObject> queue;

  @BeforeEach
  void setUp() throws Exception {
    server = PosternTestServer.create().startSessions();
  }

  @AfterEach
  void tearDown() throws Exception {
    server.close();
  }

  /** The stand-in queue: answers {@code {started: n}}; a negative n fails the request, null never answers. */
  private void queueAnswering(Integer started) throws Exception {
    queue = server.vertx().eventBus().consumer(Addresses.QUEUE_FLUSH, msg -> {
      requests.add(msg.body());
      if (started == null) {
        return;
      }
      if (started < 0) {
        msg.fail(500, "queue broken");
      } else {
        msg.reply(new JsonObject().put("started", started));
      }
    });
    queue.completion().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private SmtpTestClient.Reply etrn(String from, String argument) throws Exception {
    try (InMemorySmtp c = InMemorySmtp.connectFrom(server, from)) {
      assertEquals(220, c.reply().code());
      assertEquals(250, c.command("EHLO client.example").code());
      return c.command(argument == null ? "ETRN" : "ETRN " + argument);
    }
  }

  private static void assertReply(int code, String line, SmtpTestClient.Reply reply) {
    assertEquals(code, reply.code(), reply::toString);
    assertEquals(List.of(line), reply.lines(), reply::toString);
  }

  @Test
  void startedDeliveriesAre250() throws Exception {
    queueAnswering(3);
    assertReply(250, "2.0.0 Queuing for node example.org started", etrn("127.0.0.1", "example.org"));
    assertEquals(List.of(new JsonObject().put("domain", "example.org")), requests);
  }

  @Test
  void nothingWaitingIs251() throws Exception {
    queueAnswering(0);
    assertReply(251, "2.0.0 OK, no messages waiting for node Example.ORG", etrn("127.0.0.1", "Example.ORG"));
    assertEquals(List.of(new JsonObject().put("domain", "example.org")), requests);
  }

  @Test
  void atFormAsksForTheDomainAndItsSubdomains() throws Exception {
    queueAnswering(1);
    assertReply(250, "2.0.0 Queuing for node @example.org started", etrn("127.0.0.1", "@example.org"));
    assertEquals(List.of(new JsonObject().put("domain", "example.org").put("subdomains", true)), requests);
  }

  @Test
  void queueNamesAndAddressLiteralsAre459AndFlushNothing() throws Exception {
    queueAnswering(1);
    assertReply(459, "4.5.0 Node #outbound not allowed: queue names are not supported", etrn("127.0.0.1", "#outbound"));
    assertReply(459, "4.5.0 Node [192.0.2.1] not allowed: address literals are not supported",
        etrn("127.0.0.1", "[192.0.2.1]"));
    assertEquals(List.of(), requests);
  }

  @Test
  void noQueueIs458() throws Exception {
    // The session tier has no QueueVerticle and nothing else consumes the address.
    assertReply(458, "4.5.0 Unable to queue messages for node example.org", etrn("127.0.0.1", "example.org"));
  }

  @Test
  void failingQueueIs458() throws Exception {
    queueAnswering(-1);
    assertReply(458, "4.5.0 Unable to queue messages for node example.org", etrn("127.0.0.1", "example.org"));
    assertEquals(1, requests.size());
  }

  @Test
  void silentQueueIs458AfterTheTimeout() throws Exception {
    queueAnswering(null);
    assertReply(458, "4.5.0 Unable to queue messages for node example.org", etrn("127.0.0.1", "example.org"));
    assertEquals(1, requests.size());
  }

  @Test
  void aclDenialIsTheAclsRefusalAndFlushesNothing() throws Exception {
    queueAnswering(1);
    assertReply(458, "4.7.1 Administrative prohibition", etrn("127.0.0.2", "example.org"));
    assertReply(458, "4.7.1 Administrative prohibition", etrn("127.0.0.2", "#outbound"));
    assertEquals(List.of(), requests);
  }

  @Test
  void malformedArgumentsAre501() throws Exception {
    queueAnswering(1);
    List<String[]> cases = List.of(
        new String[] {null, "501 5.5.4 ETRN requires a node name"},
        new String[] {"exa mple.org", "501 5.5.4 Invalid node name: exa mple.org"},
        new String[] {"-bad-.org", "501 5.5.4 Invalid node name: -bad-.org"},
        new String[] {"example..org", "501 5.5.4 Invalid node name: example..org"},
        new String[] {"#", "501 5.5.4 Invalid node name: #"},
        new String[] {"@", "501 5.5.4 Invalid node name: @"},
        new String[] {"@@example.org", "501 5.5.4 Invalid node name: @@example.org"},
        new String[] {"user@example.org", "501 5.5.4 Invalid node name: user@example.org"});
    for (String[] c : cases) {
      SmtpTestClient.Reply r = etrn("127.0.0.1", c[0]);
      assertEquals(c[1], r.code() + " " + String.join("\n", r.lines()), () -> "ETRN " + c[0] + ": " + r);
    }
    assertEquals(List.of(), requests);
  }

  @Test
  void insideATransactionIs503() throws Exception {
    queueAnswering(1);
    try (InMemorySmtp c = InMemorySmtp.connect(server)) {
      assertEquals(220, c.reply().code());
      assertEquals(250, c.command("EHLO client.example").code());
      assertEquals(250, c.command("MAIL FROM:<a@example.net>").code());
      assertReply(503, "5.5.1 ETRN not permitted inside a transaction", c.command("ETRN example.org"));
    }
    assertEquals(List.of(), requests);
  }
}
