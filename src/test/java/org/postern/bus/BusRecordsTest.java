package org.postern.bus;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.postern.smtp.SmtpReply;
import org.postern.spool.Envelope;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Every record of {@code postern.session.*}, {@code postern.acl.check} and {@code postern.auth.*}:
 * its JSON form (what plugins and a clustered bus see) gives back an equal record, and its local
 * codec passes the very object on the node and the JSON form on the wire.
 */
class BusRecordsTest {
  private static final JsonObject TLS = new JsonObject().put("tls_cipher", "TLS_AES_256_GCM_SHA384")
      .put("tls_certificate_verified", 0).put("tls_peerdn", "CN=client");
  private static final Envelope ENVELOPE = new Envelope("1kAbcD-000001-Xy", "a@test.example",
      List.of(new Envelope.Recipient("alice@test.example", "alice", "test.example", Envelope.Recipient.State.PENDING)),
      1_700_000_000_000L, "127.0.0.1", 40000, "client.example", "esmtps", "127.0.0.1", 25, null, "8BITMIME", 1234,
      false);

  private static <T> void roundTrip(T record, Function<T, JsonObject> toJson, Function<JsonObject, T> fromJson) {
    JsonObject json = toJson.apply(record);
    assertEquals(record, fromJson.apply(json), json::encode);
    // Through text, as a plugin in another process would see it.
    assertEquals(record, fromJson.apply(new JsonObject(json.encode())), json::encode);
  }

  @Test
  void sessionOpen() {
    roundTrip(SessionOpen.network("n-1", "192.0.2.1", 40000, "127.0.0.1", 25, "smtp", true, null),
        SessionOpen::toJson, SessionOpen::fromJson);
    roundTrip(SessionOpen.network("n-2", "192.0.2.1", 40000, "127.0.0.1", 465, "smtps", false, TLS),
        SessionOpen::toJson, SessionOpen::fromJson);
    roundTrip(SessionOpen.local("local-1", true), SessionOpen::toJson, SessionOpen::fromJson);
    roundTrip(SessionOpen.hostCheck("local-2", "192.0.2.7", 1111, "127.0.0.1", 25, "host.example"),
        SessionOpen::toJson, SessionOpen::fromJson);
    roundTrip(SessionOpen.network("n-3", "192.0.2.1", 40000, "127.0.0.1", 25, "smtp", true, null)
        .withProxy(new ProxySession("127.0.0.3", 51000, "198.51.100.1", 25)), SessionOpen::toJson, SessionOpen::fromJson);
    roundTrip(SessionOpen.network("n-4", "127.0.0.3", 51000, "127.0.0.1", 25, "smtp", true, null)
        .withProxy(ProxySession.ANONYMOUS), SessionOpen::toJson, SessionOpen::fromJson);
  }

  @Test
  void sessionOpenKeepsItsOwnTlsFacts() {
    JsonObject tls = TLS.copy();
    SessionOpen open = SessionOpen.network("n-1", "192.0.2.1", 1, "127.0.0.1", 25, "smtps", false, tls);
    tls.put("tls_cipher", "changed");
    assertEquals("TLS_AES_256_GCM_SHA384", open.tls().getString("tls_cipher"));
  }

  @Test
  void sessionCommand() {
    roundTrip(SessionCommand.line("n-1", "MAIL FROM:<a@test.example>", false), SessionCommand::toJson,
        SessionCommand::fromJson);
    roundTrip(SessionCommand.line("n-1", "NOOP", true), SessionCommand::toJson, SessionCommand::fromJson);
    roundTrip(SessionCommand.tooLong("n-1"), SessionCommand::toJson, SessionCommand::fromJson);
  }

  @Test
  void sessionData() {
    JsonArray parts = new JsonArray().add(new JsonObject().put("mime_content_type", "text/plain").put("size", 12));
    roundTrip(new SessionData("n-1", "1kAbcD-000001-Xy", 1234, false, true, false, "<x@y>", "Subject: s\r\n", parts, 3),
        SessionData::toJson, SessionData::fromJson);
    roundTrip(new SessionData("n-1", "1kAbcD-000001-Xy", 99_999_999, true, false, true, null, "", null, 0),
        SessionData::toJson, SessionData::fromJson);
  }

  @Test
  void sessionList() {
    SessionSummary clear = new SessionSummary("n-1", "[192.0.2.1]:40000", "smtp", "mail", null, null, 1_700_000_000_000L);
    SessionSummary encrypted = new SessionSummary("n-2", "[2001:db8::1]:1", "submission", "greeted",
        "TLS1.3:TLS_AES_256_GCM_SHA384:256", "alice", 1_700_000_000_001L);
    roundTrip(new SessionList(List.of(clear, encrypted)), SessionList::toJson, SessionList::fromJson);
    roundTrip(new SessionList(List.of()), SessionList::toJson, SessionList::fromJson);
    // Optional members are absent, not null.
    assertEquals(java.util.Set.of("id", "client", "listener", "state", "started_at"), clear.toJson().fieldNames());
  }

  @Test
  void sessionTlsAndAck() {
    roundTrip(SessionTls.started("n-1", TLS), SessionTls::toJson, SessionTls::fromJson);
    roundTrip(SessionTls.failed("n-1"), SessionTls::toJson, SessionTls::fromJson);
    roundTrip(Ack.INSTANCE, Ack::toJson, Ack::fromJson);
  }

  @ParameterizedTest
  @EnumSource(CloseReason.class)
  void sessionClose(CloseReason reason) {
    roundTrip(new SessionClose("n-1", reason), SessionClose::toJson, SessionClose::fromJson);
    assertEquals(reason, CloseReason.fromWire(reason.wire()));
  }

  /** The wire strings are Exim's {@code $smtp_notquit_reason} values. */
  @Test
  void closeReasonsSpellExim() {
    assertEquals("acl-drop", CloseReason.ACL_DROP.wire());
    assertEquals("bad-commands", CloseReason.BAD_COMMANDS.wire());
    assertEquals("command-timeout", CloseReason.COMMAND_TIMEOUT.wire());
    assertEquals("data-timeout", CloseReason.DATA_TIMEOUT.wire());
    assertEquals("connection-lost", CloseReason.CONNECTION_LOST.wire());
    assertEquals("synchronization-error", CloseReason.SYNCHRONIZATION_ERROR.wire());
    assertEquals("tls-failed", CloseReason.TLS_FAILED.wire());
    assertEquals("signal-exit", CloseReason.SIGNAL_EXIT.wire());
    assertThrows(IllegalArgumentException.class, () -> CloseReason.fromWire("bored"));
  }

  @Test
  void sessionResponse() {
    SmtpReply multi = new SmtpReply(250, null, List.of("mx.test.example", "PIPELINING", "SIZE 1000"));
    roundTrip(SessionResponse.reply(multi).syncPoint(true), SessionResponse::toJson, SessionResponse::fromJson);
    roundTrip(SessionResponse.reply(SmtpReply.of(334, null, "")).withLineLimit(12288).withLog("x"),
        SessionResponse::toJson, SessionResponse::fromJson);
    roundTrip(SessionResponse.close(SmtpReply.of(221, "2.0.0", "bye")), SessionResponse::toJson,
        SessionResponse::fromJson);
    roundTrip(SessionResponse.close(SmtpReply.of(421, "4.7.0", "too many"), CloseReason.BAD_COMMANDS),
        SessionResponse::toJson, SessionResponse::fromJson);
    roundTrip(SessionResponse.startData(SmtpReply.of(354, null, "go"),
            new SessionResponse.DataStart("1kAbcD-000001-Xy", "Received: from x\r\n", 52_428_800, true)),
        SessionResponse::toJson, SessionResponse::fromJson);
    roundTrip(SessionResponse.commit(SmtpReply.of(250, "2.0.0", "OK id=1kAbcD-000001-Xy"),
            new SessionResponse.Commit(ENVELOPE, "X-Late: yes\r\n", true), "1kAbcD-000001-Xy <= a@test.example"),
        SessionResponse::toJson, SessionResponse::fromJson);
    roundTrip(new SessionResponse(SmtpReply.of(550, "5.7.1", "no"), SessionAction.ABORT, false, null, "rejected"),
        SessionResponse::toJson, SessionResponse::fromJson);
    roundTrip(SessionResponse.chunk(SmtpReply.of(250, "2.0.0", "100 byte chunk received"),
            new SessionResponse.Chunk(100, false, true,
                new SessionResponse.DataStart("1kAbcD-000001-Xy", "Received: from x\r\n", 1000, false))),
        SessionResponse::toJson, SessionResponse::fromJson);
    roundTrip(SessionResponse.chunk(SmtpReply.of(503, "5.5.1", "MAIL first"),
            new SessionResponse.Chunk(9_000_000_000L, true, false, null)).syncPoint(true),
        SessionResponse::toJson, SessionResponse::fromJson);
  }

  /** {@code close(reply)} keeps its meaning for the command classes: 221 is QUIT, anything else a drop. */
  @Test
  void closeWithoutReasonIsQuitOrDrop() {
    assertEquals(CloseReason.QUIT, SessionResponse.close(SmtpReply.of(221, "2.0.0", "bye")).closeReason());
    assertEquals(CloseReason.ACL_DROP, SessionResponse.close(SmtpReply.of(550, "5.7.1", "no")).closeReason());
  }

  @Test
  void factsMustFitTheAction() {
    SmtpReply ok = SmtpReply.of(250, "2.0.0", "OK");
    assertThrows(IllegalArgumentException.class, () -> new SessionResponse(ok, SessionAction.DATA, false, null, null));
    assertThrows(IllegalArgumentException.class, () -> new SessionResponse(ok, SessionAction.CHUNK, false, null, null));
    assertThrows(IllegalArgumentException.class, () -> new SessionResponse.Chunk(-1, true, true, null));
    assertThrows(IllegalArgumentException.class, () -> new SessionResponse(ok, SessionAction.CONTINUE, false,
        new SessionResponse.Closing(CloseReason.QUIT), null));
    assertThrows(IllegalArgumentException.class, () -> new SessionResponse(ok, SessionAction.STARTTLS, false,
        new SessionResponse.LineLimit(1), null));
  }

  @Test
  void aclCheckAndVerdict() {
    roundTrip(new AclCheck(AclStage.RCPT, new JsonObject().put("local_part", "alice").put("recipients_count", 2),
        "gen-1", false), AclCheck::toJson, AclCheck::fromJson);
    roundTrip(new AclCheck(AclStage.NOTQUIT, new JsonObject(), null, true), AclCheck::toJson, AclCheck::fromJson);
    roundTrip(new AclVerdict(AclVerdict.Type.DENY, 550, "5.1.1", "unknown user", "log it", "acl_check_rcpt 1",
            new JsonObject().put("acl_m0", "x"), new AclEffects(List.of("X-A: b"), List.of("queue"), 500)),
        AclVerdict::toJson, AclVerdict::fromJson);
    roundTrip(AclVerdict.of(AclVerdict.Type.ACCEPT), AclVerdict::toJson, AclVerdict::fromJson);
    assertThrows(IllegalArgumentException.class, () -> AclCheck.fromJson(new JsonObject()));
    assertThrows(IllegalArgumentException.class, () -> AclCheck.fromJson(new JsonObject().put("stage", "lunch")));
  }

  @Test
  void authStepReplyAndCancel() {
    byte[] plain = "\0alice\0secret".getBytes(StandardCharsets.UTF_8);
    roundTrip(new AuthStep("n-1", "PLAIN", true, plain, "gen-1", new JsonObject().put("sender_host_address", "192.0.2.1")),
        AuthStep::toJson, AuthStep::fromJson);
    roundTrip(new AuthStep("n-1", "XOAUTH2", true, null, null, new JsonObject()), AuthStep::toJson, AuthStep::fromJson);
    roundTrip(new AuthStep("n-1", "LOGIN", false, new byte[0], null, new JsonObject()), AuthStep::toJson,
        AuthStep::fromJson);
    roundTrip(AuthReply.challenge("Username:".getBytes(StandardCharsets.UTF_8)), AuthReply::toJson, AuthReply::fromJson);
    roundTrip(AuthReply.challenge(new byte[0]), AuthReply::toJson, AuthReply::fromJson);
    roundTrip(AuthReply.success("alice", List.of("", "alice", "secret")), AuthReply::toJson, AuthReply::fromJson);
    roundTrip(AuthReply.failure("alice", "incorrect authentication data"), AuthReply::toJson, AuthReply::fromJson);
    roundTrip(AuthReply.failure(null, "no credentials"), AuthReply::toJson, AuthReply::fromJson);
    roundTrip(AuthReply.uncountedFailure("bob", "CRAM-MD5 cannot use the stored scheme {BLF-CRYPT}"),
        AuthReply::toJson, AuthReply::fromJson);
    roundTrip(AuthReply.temporaryFailure("token service did not answer"), AuthReply::toJson, AuthReply::fromJson);
    roundTrip(AuthReply.throttled(null, "too many recent failures from this address"), AuthReply::toJson,
        AuthReply::fromJson);
    roundTrip(new AuthCancel("n-1"), AuthCancel::toJson, AuthCancel::fromJson);
  }

  /** The JSON of docs/plugins.md, as an external mechanism (XOAUTH2) sends and reads it. */
  @Test
  void authJsonIsTheDocumentedOne() {
    assertEquals(new JsonObject("""
        {"exchange":"n-1","mechanism":"XOAUTH2","first":true,"response":"dXNlcj1hbGljZQE=",
         "generation":"g","variables":{"sender_host_address":"192.0.2.1"}}"""),
        new AuthStep("n-1", "XOAUTH2", true, "user=alice\u0001".getBytes(StandardCharsets.UTF_8), "g",
            new JsonObject().put("sender_host_address", "192.0.2.1")).toJson());
    assertEquals(new JsonObject("{\"status\":\"challenge\",\"challenge\":\"eyJzdGF0dXMiOiI0MDEifQ==\"}"),
        AuthReply.challenge("{\"status\":\"401\"}".getBytes(StandardCharsets.UTF_8)).toJson());
    assertEquals(new JsonObject("{\"status\":\"success\",\"authenticated_id\":\"alice\"}"),
        AuthReply.success("alice", List.of()).toJson());
    assertEquals(new JsonObject("{\"status\":\"failure\",\"user\":\"alice\",\"reason\":\"expired\",\"counted\":true}"),
        AuthReply.failure("alice", "expired").toJson());
    // What a plugin may leave out: counted (true), the code (535 5.7.8), the user.
    assertEquals(AuthReply.failure(null, null), AuthReply.fromJson(new JsonObject("{\"status\":\"failure\"}")));
    assertEquals(new AuthReply(AuthReply.Status.FAILURE, null, null, List.of(), null, false, 454, "4.7.0"),
        AuthReply.fromJson(new JsonObject("{\"status\":\"failure\",\"counted\":false,\"code\":454,\"enhanced\":\"4.7.0\"}")));
    assertThrows(IllegalArgumentException.class, () -> AuthReply.fromJson(new JsonObject()));
    assertThrows(IllegalArgumentException.class, () -> AuthReply.fromJson(new JsonObject().put("status", "maybe")));
    assertThrows(IllegalArgumentException.class, () -> AuthReply.fromJson(new JsonObject().put("status", "challenge")));
    assertThrows(IllegalArgumentException.class,
        () -> AuthReply.fromJson(new JsonObject().put("status", "failure").put("code", 250)));
    assertThrows(IllegalArgumentException.class,
        () -> AuthReply.fromJson(new JsonObject().put("status", "success").put("authenticated_id", "a").put("code", 535)));
    assertThrows(IllegalArgumentException.class,
        () -> AuthReply.fromJson(new JsonObject().put("status", "success").put("user", "alice")));
    assertThrows(IllegalArgumentException.class, () -> AuthStep.fromJson(new JsonObject().put("exchange", "n-1")));
    assertThrows(IllegalArgumentException.class, () -> AuthStep.fromJson(new JsonObject()
        .put("exchange", "n-1").put("mechanism", "PLAIN").put("response", "not base64!")));
  }

  /** A response or {@code $auth} value may be a password: no record shows it, encoded or not. */
  @Test
  void authRecordsNeverShowSecrets() {
    byte[] plain = "\0alice\0s3cret-pw".getBytes(StandardCharsets.UTF_8);
    String step = new AuthStep("n-1", "PLAIN", true, plain, null, null).toString();
    String reply = AuthReply.success("alice", List.of("", "alice", "s3cret-pw")).toString();
    for (String shown : List.of(step, reply)) {
      assertFalse(shown.contains("s3cret-pw"), shown);
      assertFalse(shown.contains(java.util.Base64.getEncoder().encodeToString(plain)), shown);
    }
  }

  /** The records are immutable: changing the array given or taken changes nothing. */
  @Test
  void authRecordsKeepTheirBytes() {
    byte[] given = {1, 2, 3};
    AuthStep step = new AuthStep("n-1", "PLAIN", false, given, null, null);
    AuthReply challenge = AuthReply.challenge(given);
    given[0] = 9;
    step.response()[1] = 9;
    challenge.challenge()[1] = 9;
    assertArrayEquals(new byte[] {1, 2, 3}, step.response());
    assertArrayEquals(new byte[] {1, 2, 3}, challenge.challenge());
  }

  /** The published events of docs/plugins.md "Events" that are records here. */
  @Test
  void eventRecords() {
    roundTrip(new DeliveryWaiting("1kAbcD-000001-Xy", "remote_smtp", 2), DeliveryWaiting::toJson,
        DeliveryWaiting::fromJson);
    assertEquals(new JsonObject("{\"id\":\"m\",\"transport\":\"remote_smtp\",\"remote_max_parallel\":2}"),
        new DeliveryWaiting("m", "remote_smtp", 2).toJson());
    for (TlsScan.Outcome outcome : TlsScan.Outcome.values()) {
      roundTrip(new TlsScan(outcome), TlsScan::toJson, TlsScan::fromJson);
    }
    assertEquals(new JsonObject("{\"outcome\":\"unchanged\"}"), new TlsScan(TlsScan.Outcome.UNCHANGED).toJson());
    assertThrows(IllegalArgumentException.class, () -> TlsScan.fromJson(new JsonObject()));
    assertThrows(IllegalArgumentException.class, () -> TlsScan.fromJson(new JsonObject().put("outcome", "maybe")));
  }

  @Test
  void localCodecPassesTheObjectAndEncodesJsonOnTheWire() {
    LocalCodec<SessionCommand> codec = new LocalCodec<>(SessionCommand.class, SessionCommand::toJson,
        SessionCommand::fromJson);
    SessionCommand command = SessionCommand.line("n-1", "RCPT TO:<alice@test.example>", false);
    assertSame(command, codec.transform(command));
    Buffer wire = Buffer.buffer("prefix");
    codec.encodeToWire(wire, command);
    assertEquals(command, codec.decodeFromWire("prefix".length(), wire));
  }

  /** Registered twice (several verticles start), the codec is the default: the consumer gets the sender's object. */
  @Test
  void busDeliversTheSameObject() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      BusCodecs.register(vertx);
      BusCodecs.register(vertx);
      vertx.eventBus().<SessionCommand>localConsumer("test.command", m -> m.reply(m.body()));
      SessionCommand command = SessionCommand.line("n-1", "NOOP", false);
      Object echoed = vertx.eventBus().request("test.command", command).toCompletionStage().toCompletableFuture()
          .get(10, TimeUnit.SECONDS).body();
      assertSame(command, echoed);
      vertx.eventBus().<AuthStep>localConsumer("test.auth", m -> m.reply(AuthReply.challenge(m.body().response())));
      AuthStep step = new AuthStep("n-1", "PLAIN", true, new byte[] {0}, null, null);
      Object reply = vertx.eventBus().request("test.auth", step).toCompletionStage().toCompletableFuture()
          .get(10, TimeUnit.SECONDS).body();
      assertEquals(AuthReply.challenge(new byte[] {0}), reply);
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }
}
