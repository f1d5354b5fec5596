package org.postern.bus;

import io.vertx.core.json.JsonObject;

import java.util.Locale;

/**
 * What happened to a message, published (never requested) on {@code postern.event.<kind>}
 * ({@link Addresses#event(Kind)}) as JSON, so an observer plugin (an audit trail, a webhook, metrics)
 * needs nothing but a consumer there, in this node or, when clustered, in any node. Postern never
 * waits for an observer: a missing or slow one changes nothing. One event per main-log line of the
 * same kind: {@code <=} accepted, {@code =>} delivered, {@code ==} deferred, {@code **} failed, a
 * bounce spooled, {@code Completed}. Schema in {@code docs/plugins.md}.
 *
 * @param kind      what happened
 * @param id        the message's spool id
 * @param time      when, epoch milliseconds
 * @param recipient the recipient it concerns (delivered, deferred, failed), else null
 * @param router    the router that routed the recipient ({@code R=}), or null
 * @param transport the transport that was asked ({@code T=}), or null
 * @param host      the host that gave the result, or null
 * @param code      the SMTP reply code of the result, 0 when there was none
 * @param text      the reason (deferred, failed) or the server's reply (delivered), or null
 * @param bounceId  with {@link Kind#BOUNCED}: the spool id of the bounce message; else null
 */
public record MessageEvent(Kind kind, String id, long time, String recipient, String router, String transport,
                           RemoteHost host, int code, String text, String bounceId) implements BusRecord {
  /** The kinds of message events, each on its own address. */
  public enum Kind {
    /** The message was committed to the spool (the {@code 250} after DATA was sent). */
    ACCEPTED,
    /** One recipient was delivered. */
    DELIVERED,
    /** One recipient's delivery was deferred: the queue retries it. */
    DEFERRED,
    /** One recipient failed permanently: it is reported to the sender. */
    FAILED,
    /** A bounce (delivery status notification) for the failed recipients was spooled. */
    BOUNCED,
    /** Every recipient is done: the message left the spool. */
    COMPLETED;

    public String wire() {
      return name().toLowerCase(Locale.ROOT);
    }

    public static Kind fromWire(String name) {
      return valueOf(name.toUpperCase(Locale.ROOT));
    }
  }

  /** An event about the whole message (accepted, completed). */
  public static MessageEvent of(Kind kind, String id, long time) {
    return new MessageEvent(kind, id, time, null, null, null, null, 0, null, null);
  }

  /** An event about one recipient. */
  public static MessageEvent recipient(Kind kind, String id, long time, String recipient, String router,
                                       String transport, RemoteHost host, int code, String text) {
    return new MessageEvent(kind, id, time, recipient, router, transport, host, code, text, null);
  }

  /** The bounce {@code bounceId} was spooled for message {@code id}. */
  public static MessageEvent bounced(String id, long time, String bounceId) {
    return new MessageEvent(Kind.BOUNCED, id, time, null, null, null, null, 0, null, bounceId);
  }

  /** The JSON form; members that are not set are absent. */
  @Override
  public JsonObject toJson() {
    JsonObject j = new JsonObject().put("event", kind.wire()).put("id", id).put("time", time);
    putIfSet(j, "recipient", recipient);
    putIfSet(j, "router", router);
    putIfSet(j, "transport", transport);
    if (host != null) {
      j.put("host", host.toJson());
    }
    if (code != 0) {
      j.put("code", code);
    }
    putIfSet(j, "text", text);
    putIfSet(j, "bounce_id", bounceId);
    return j;
  }

  private static void putIfSet(JsonObject j, String name, String value) {
    if (value != null) {
      j.put(name, value);
    }
  }

  public static MessageEvent fromJson(JsonObject j) {
    JsonObject host = j.getJsonObject("host");
    return new MessageEvent(Kind.fromWire(j.getString("event")), j.getString("id"), j.getLong("time", 0L),
        j.getString("recipient"), j.getString("router"), j.getString("transport"),
        host == null ? null : RemoteHost.fromJson(host), j.getInteger("code", 0), j.getString("text"),
        j.getString("bounce_id"));
  }
}
