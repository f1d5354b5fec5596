package org.postern.bus;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The records of {@code postern.queue.*} and {@code postern.deliver.*}: each survives its JSON form
 * (the contract plugins and other nodes see, {@code docs/plugins.md}), the JSON is the documented
 * one, and the local codec passes the record itself while the wire form goes through JSON.
 */
class QueueContractsTest {
  private static final RemoteHost MX = new RemoteHost("mx.remote.example", "192.0.2.25", 2525);
  private static final DeliveryRequest SMTP_REQUEST = new DeliveryRequest("1xXMqa-lXNrw2-0000", "remote_smtp",
      "/spool/input/1xXMqa-lXNrw2-0000-D", "alice@test.example", 1234, true, 1_764_000_000_123L, false,
      List.of("bob@remote.example", "carol@remote.example"), List.of(MX, new RemoteHost(null, "192.0.2.26", 25)));
  private static final DeliveryResult SMTP_RESULT = new DeliveryResult(List.of(
      new DeliveryResult.Recipient("bob@remote.example", DeliveryStatus.DELIVERED, 250, "2.0.0", "250 2.0.0 OK",
          MX, "X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes", "login"),
      new DeliveryResult.Recipient("carol@remote.example", DeliveryStatus.FAILED, 550, "5.1.1",
          "SMTP error from remote mail server after RCPT TO:<carol@remote.example>: 550 5.1.1 unknown", MX, null, null),
      new DeliveryResult.Recipient("dave@remote.example", DeliveryStatus.DEFERRED, 0, null, "Connection refused",
          null, null, null)),
      List.of(new DeliveryResult.HostProblem(new RemoteHost(null, "192.0.2.26", 25), "Connection refused")));

  @Test
  void everyRecordSurvivesItsJsonForm() {
    List<BusRecord> records = List.of(new EnqueueRequest("1xXMqa-lXNrw2-0000", true),
        new EnqueueRequest("1xXMqa-lXNrw2-0001", false), new EnqueueReply("1xXMqa-lXNrw2-0000", true),
        new QueueFlushRequest("test.example", true, false, List.of(), false, false),
        new QueueFlushRequest(null, false, true, List.of("a", "b"), true, true),
        new QueueFlushReply(3), new QueueFlushReply(3, 4, 1, 2), SMTP_REQUEST, SMTP_RESULT,
        new DeliveryRequest("id", "maildir", "/d", "", 10, false, 5, true, List.of("admin"), List.of()),
        new DeliveryResult(List.of(DeliveryResult.Recipient.local("admin", DeliveryStatus.DEFERRED, 451, "4.3.0",
            "java.io.IOException: No space left on device")), List.of()),
        new DeliveryResult(List.of(new DeliveryResult.Recipient("bob@remote.example", DeliveryStatus.DELIVERED, 250,
            "2.0.0", "250 2.0.0 OK", MX, null, null, true)), List.of()));
    for (BusRecord r : records) {
      JsonObject json = new JsonObject(r.toJson().encode());
      assertEquals(r, codec(r.getClass()).decodeFromWire(0, wire(r)), "wire");
      assertEquals(r, fromJson(r.getClass(), json), json.encode());
    }
  }

  private static final org.postern.spool.Envelope ENVELOPE = new org.postern.spool.Envelope("1xXMqa-lXNrw2-0000",
      "sender@example.org", List.of(org.postern.spool.Envelope.Recipient.pending("alice@test.example"),
      org.postern.spool.Envelope.Recipient.pending("bob@test.example")
          .withState(org.postern.spool.Envelope.Recipient.State.DELIVERED)),
      1_764_000_000_123L, "192.0.2.1", 41000, "client.example", "esmtp", "192.0.2.2", 25, null, "7BIT", 25, false);

  @Test
  void theLocalDeliveryRecordsSurviveTheirJsonForm() {
    List<BusRecord> records = List.of(
        new LocalDeliveryRequest(ENVELOPE, Buffer.buffer("Subject: x\r\n\r\nbody\r\n"), true, "m <= sender@example.org"),
        LocalDeliveryReply.DELIVERED_REPLY, LocalDeliveryReply.NOT_ELIGIBLE_REPLY,
        new LocalDeliveryReply(LocalDeliveryReply.Outcome.PARTIAL, ENVELOPE, List.of("m => bob <bob@test.example>")));
    for (BusRecord r : records) {
      JsonObject json = new JsonObject(r.toJson().encode());
      assertEquals(r, codec(r.getClass()).decodeFromWire(0, wire(r)), "wire");
      assertEquals(r, fromJson(r.getClass(), json), json.encode());
    }
    assertEquals(new JsonObject("{\"outcome\":\"not_eligible\"}"), LocalDeliveryReply.NOT_ELIGIBLE_REPLY.toJson());
    JsonObject request = records.get(0).toJson();
    assertEquals(List.of("envelope", "content", "queue_only", "arrival_log"), List.copyOf(request.fieldNames()));
    // Binary in JSON is Vert.x's: base64url without padding, as docs/plugins.md says.
    assertEquals(java.util.Base64.getUrlEncoder().withoutPadding().encodeToString("Subject: x\r\n\r\nbody\r\n".getBytes()),
        new JsonObject(request.encode()).getString("content"));
  }

  @Test
  void theJsonFormsAreTheDocumentedOnes() {
    assertEquals(new JsonObject("{\"id\":\"m\",\"queue_only\":true}"), new EnqueueRequest("m", true).toJson());
    assertEquals(new JsonObject("{\"id\":\"m\",\"queued\":false}"), new EnqueueReply("m", false).toJson());
    // Only the members that are set: -q is {wait: true}, ETRN @example.org {domain, subdomains}.
    assertEquals(new JsonObject("{\"wait\":true}"),
        new QueueFlushRequest(null, false, false, List.of(), false, true).toJson());
    assertEquals(new JsonObject("{\"domain\":\"example.org\",\"subdomains\":true}"),
        new QueueFlushRequest("Example.ORG", true, false, null, false, false).toJson());
    assertEquals(new QueueFlushRequest(null, false, false, List.of(), false, false), QueueFlushRequest.fromJson(null));
    assertEquals(new JsonObject("{\"started\":2,\"delivered\":3,\"deferred\":1,\"failed\":0}"),
        new QueueFlushReply(2, 3, 1, 0).toJson());
    assertEquals(new QueueFlushReply(2), QueueFlushReply.fromJson(new JsonObject("{\"started\":2}")));
    assertEquals(new JsonObject("""
        {"id":"1xXMqa-lXNrw2-0000","transport":"remote_smtp","data_file":"/spool/input/1xXMqa-lXNrw2-0000-D",
         "sender":"alice@test.example","size":1234,"eight_bit":true,"received_at":1764000000123,"recovering":false,
         "recipients":["bob@remote.example","carol@remote.example"],
         "hosts":[{"name":"mx.remote.example","address":"192.0.2.25","port":2525},
                  {"name":null,"address":"192.0.2.26","port":25}]}"""), SMTP_REQUEST.toJson());
    assertEquals(new JsonObject("""
        {"results":[
          {"address":"bob@remote.example","status":"delivered","code":250,"enhanced":"2.0.0","text":"250 2.0.0 OK",
           "host":{"name":"mx.remote.example","address":"192.0.2.25","port":2525},
           "tls":"X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes","authenticator":"login"},
          {"address":"carol@remote.example","status":"failed","code":550,"enhanced":"5.1.1",
           "text":"SMTP error from remote mail server after RCPT TO:<carol@remote.example>: 550 5.1.1 unknown",
           "host":{"name":"mx.remote.example","address":"192.0.2.25","port":2525}},
          {"address":"dave@remote.example","status":"deferred","code":0,"enhanced":null,"text":"Connection refused"}],
         "host_problems":[{"name":null,"address":"192.0.2.26","port":25,"reason":"Connection refused"}]}"""),
        SMTP_RESULT.toJson());
    assertThrows(IllegalArgumentException.class, () -> DeliveryResult.fromJson(new JsonObject(
        "{\"results\":[{\"address\":\"x\",\"status\":\"maybe\"}]}")));
    assertEquals(true, new DeliveryResult.Recipient("b@x", DeliveryStatus.DELIVERED, 250, "2.0.0", "ok", null, null,
        null, true).toJson().getBoolean("chunking"), "chunking: true, as documented");
  }

  @Test
  void theLocalCodecPassesTheRecordItselfAndRegisteringTwiceIsHarmless() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      BusCodecs.register(vertx);
      // A second verticle (or part) registering the same and more types: no "already registered".
      BusCodecs.register(vertx);
      AtomicReference<Object> received = new AtomicReference<>();
      vertx.eventBus().<DeliveryRequest>localConsumer("test.deliver", m -> {
        received.set(m.body());
        m.reply(SMTP_RESULT);
      }).completion().await(10, TimeUnit.SECONDS);
      Object reply = vertx.eventBus().request("test.deliver", SMTP_REQUEST, new DeliveryOptions().setLocalOnly(true))
          .await(10, TimeUnit.SECONDS).body();
      assertSame(SMTP_REQUEST, received.get());
      assertSame(SMTP_RESULT, reply);
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  @SuppressWarnings("unchecked")
  private static <T extends BusRecord> LocalCodec<T> codec(Class<T> type) {
    return BusCodecs.codec(type, BusRecord::toJson, json -> {
      try {
        return (T) type.getMethod("fromJson", JsonObject.class).invoke(null, json);
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException(e);
      }
    });
  }

  @SuppressWarnings("unchecked")
  private static <T extends BusRecord> Buffer wire(T r) {
    Buffer b = Buffer.buffer();
    codec((Class<T>) r.getClass()).encodeToWire(b, r);
    return b;
  }

  private static Object fromJson(Class<?> type, JsonObject json) {
    try {
      return type.getMethod("fromJson", JsonObject.class).invoke(null, json);
    } catch (ReflectiveOperationException e) {
      throw new AssertionError(e);
    }
  }
}
