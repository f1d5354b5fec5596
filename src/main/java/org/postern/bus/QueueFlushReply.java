package org.postern.bus;

import io.vertx.core.json.JsonObject;

/**
 * The queue's answer to a {@link QueueFlushRequest}, JSON {@code {started, delivered, deferred,
 * failed}}. The three outcomes count recipients, as the main log's {@code =>}, {@code ==} and
 * {@code **} lines of the run's messages do; they are known only for a request with {@code wait}
 * (else 0). A cluster-wide run ({@code postern.cluster.queue.flush}) answers the sum over its nodes.
 *
 * @param started   how many messages the run selected and started (0: nothing was waiting)
 * @param delivered recipients delivered by the run
 * @param deferred  recipients deferred by the run (the queue retries them)
 * @param failed    recipients that failed permanently in the run (reported to the sender)
 */
public record QueueFlushReply(int started, int delivered, int deferred, int failed) implements BusRecord {
  /** A run whose outcomes are not awaited (ETRN, the admin API's flush). */
  public QueueFlushReply(int started) {
    this(started, 0, 0, 0);
  }

  /** This reply and {@code other} added up (the nodes of a cluster-wide run). */
  public QueueFlushReply plus(QueueFlushReply other) {
    return new QueueFlushReply(started + other.started, delivered + other.delivered, deferred + other.deferred,
        failed + other.failed);
  }

  @Override
  public JsonObject toJson() {
    return new JsonObject().put("started", started).put("delivered", delivered).put("deferred", deferred)
        .put("failed", failed);
  }

  public static QueueFlushReply fromJson(JsonObject j) {
    return j == null ? new QueueFlushReply(0) : new QueueFlushReply(j.getInteger("started", 0),
        j.getInteger("delivered", 0), j.getInteger("deferred", 0), j.getInteger("failed", 0));
  }
}
