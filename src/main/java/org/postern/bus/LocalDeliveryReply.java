package org.postern.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.postern.spool.Envelope;

import java.util.List;

/**
 * The queue's answer to a {@link LocalDeliveryRequest}. JSON form
 * {@code {outcome, envelope (PARTIAL only), log (PARTIAL only)}}.
 *
 * @param outcome  what happened
 * @param envelope for {@link Outcome#PARTIAL}: the envelope to commit to the spool, the delivered
 *                 recipients marked delivered (so a queue run never delivers them twice); else null
 * @param log      for {@link Outcome#PARTIAL}: the {@code =>} lines of the deliveries made, to be
 *                 written after the {@code <=} line once the spool commit succeeded; else empty
 */
public record LocalDeliveryReply(Outcome outcome, Envelope envelope, List<String> log) implements BusRecord {
  /** How far the queue took the message. */
  public enum Outcome {
    /**
     * In every maildir, fsynced, and logged ({@code <=}, {@code =>}, {@code Completed}): the 250
     * may go out, the spool is not written.
     */
    DELIVERED,
    /** The message does not qualify; nothing was delivered: commit it to the spool as usual. */
    NOT_ELIGIBLE,
    /** Some maildirs were written, some not: commit {@link #envelope()} to the spool, then enqueue. */
    PARTIAL
  }

  public LocalDeliveryReply {
    log = List.copyOf(log);
  }

  public static final LocalDeliveryReply NOT_ELIGIBLE_REPLY = new LocalDeliveryReply(Outcome.NOT_ELIGIBLE, null, List.of());
  public static final LocalDeliveryReply DELIVERED_REPLY = new LocalDeliveryReply(Outcome.DELIVERED, null, List.of());

  @Override
  public JsonObject toJson() {
    JsonObject j = new JsonObject().put("outcome", outcome.name().toLowerCase(java.util.Locale.ROOT));
    if (envelope != null) {
      j.put("envelope", envelope.toJson());
    }
    if (!log.isEmpty()) {
      j.put("log", new JsonArray(List.copyOf(log)));
    }
    return j;
  }

  public static LocalDeliveryReply fromJson(JsonObject j) {
    JsonObject e = j.getJsonObject("envelope");
    JsonArray log = j.getJsonArray("log", new JsonArray());
    return new LocalDeliveryReply(Outcome.valueOf(j.getString("outcome").toUpperCase(java.util.Locale.ROOT)),
        e == null ? null : Envelope.fromJson(e), log.stream().map(String::valueOf).toList());
  }
}
