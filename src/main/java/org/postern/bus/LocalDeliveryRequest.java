package org.postern.bus;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.postern.spool.Envelope;

/**
 * {@code postern.queue.deliver.local}: an accepted message that is still in the listener's memory,
 * offered to the queue for delivery into its maildirs before the 250 (a Postern departure from
 * Exim, which always spools first). The queue alone decides whether the message qualifies and
 * answers with a {@link LocalDeliveryReply}. Node-local; passed by reference through
 * {@link BusCodecs}. JSON form {@code {envelope, content (base64url, unpadded), queue_only, arrival_log}}.
 *
 * @param envelope   the envelope the spool commit would write
 * @param content    the whole message as the {@code -D} file would hold it (Received and ACL
 *                   headers included)
 * @param queueOnly  an ACL's {@code control = queue} or a freeze asked for no immediate delivery
 * @param arrivalLog the {@code <=} main-log line(s), written by the queue only once the message is
 *                   safe in every maildir
 */
public record LocalDeliveryRequest(Envelope envelope, Buffer content, boolean queueOnly, String arrivalLog)
    implements BusRecord {
  @Override
  public JsonObject toJson() {
    return new JsonObject().put("envelope", envelope.toJson()).put("content", content.getBytes())
        .put("queue_only", queueOnly).put("arrival_log", arrivalLog);
  }

  public static LocalDeliveryRequest fromJson(JsonObject j) {
    return new LocalDeliveryRequest(Envelope.fromJson(j.getJsonObject("envelope")), Buffer.buffer(j.getBinary("content")),
        j.getBoolean("queue_only", false), j.getString("arrival_log"));
  }
}
