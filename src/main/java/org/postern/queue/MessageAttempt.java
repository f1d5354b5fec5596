package org.postern.queue;

import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import org.postern.spool.Envelope;
import org.postern.spool.MessageLock;
import org.postern.spool.Spool;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One delivery attempt of one message: the envelope as results come in, the permanent failures
 * waiting for their bounce, and the chain of envelope writes (each fsynced, in order). Changed on
 * the queue verticle's context only, or on a worker while nothing else runs for the message.
 */
final class MessageAttempt {
  private final int receivedHeaders;
  private final boolean force;
  private final Map<String, BounceRequest.FailedRecipient> failures = new LinkedHashMap<>();
  private Envelope envelope;
  private Envelope written;
  private Future<Void> writes = Future.succeededFuture();
  private boolean remoteDeliveries;
  private final MessageLock lock;

  /** An attempt at the message of {@code envelope}, whose {@code lock} the caller holds. */
  MessageAttempt(Envelope envelope, int receivedHeaders, boolean force, MessageLock lock) {
    this.lock = lock;
    this.envelope = envelope;
    this.written = envelope;
    this.receivedHeaders = receivedHeaders;
    this.force = force;
  }

  String id() {
    return envelope.id();
  }

  Envelope envelope() {
    return envelope;
  }

  /** The message's lock, held for the whole attempt. */
  MessageLock lock() {
    return lock;
  }

  int receivedHeaders() {
    return receivedHeaders;
  }

  /** Retry times are ignored (Exim's {@code -qf}). */
  boolean force() {
    return force;
  }

  List<Envelope.Recipient> pending() {
    return envelope.recipients().stream().filter(r -> r.state() == Envelope.Recipient.State.PENDING).toList();
  }

  /** Records a permanent failure; the recipient is marked failed once its bounce is on the spool. */
  void fail(BounceRequest.FailedRecipient failure) {
    failures.putIfAbsent(failure.address(), failure);
  }

  boolean failed(String address) {
    return failures.containsKey(address);
  }

  List<BounceRequest.FailedRecipient> failures() {
    return List.copyOf(failures.values());
  }

  void delivered(String address) {
    set(address, Envelope.Recipient.State.DELIVERED);
  }

  /** Delivered by a remote transport: repeating it after a crash would be a duplicate (maildir is idempotent). */
  void deliveredRemotely(String address) {
    delivered(address);
    remoteDeliveries = true;
  }

  /** True once a recipient of this message went out over SMTP in this attempt. */
  boolean hasRemoteDeliveries() {
    return remoteDeliveries;
  }

  /** New recipients (an alias pointing elsewhere), unless already in the envelope. */
  void add(List<Envelope.Recipient> added) {
    List<Envelope.Recipient> out = new ArrayList<>(envelope.recipients());
    for (Envelope.Recipient r : added) {
      if (out.stream().noneMatch(x -> x.address().equalsIgnoreCase(r.address()))) {
        out.add(r);
      }
    }
    envelope = envelope.withRecipients(out);
  }

  /** A delay warning for this message is on the spool: counted in the envelope, written with it. */
  void warned() {
    envelope = envelope.withWarningsSent(envelope.warningsSent() + 1);
  }

  /** Marks every recorded failure failed, once its bounce is on the spool. */
  void markFailed() {
    failures.keySet().forEach(a -> set(a, Envelope.Recipient.State.FAILED));
  }

  /**
   * Freezes the message instead of bouncing its failures (it is a bounce itself). The failed
   * recipients stay pending, as in Exim, so that an administrator who mends the cause and thaws
   * the message ({@code -Mt}, {@code -M}) has it delivered rather than silently completed.
   */
  void freeze() {
    envelope = envelope.withFrozen(true);
  }

  /** Thaws the message for this attempt ({@code -M}, {@code -qff}); written with the envelope. */
  void thaw() {
    envelope = envelope.withFrozen(false);
  }

  /** True when the envelope changed since it was last written. */
  boolean dirty() {
    return !envelope.equals(written);
  }

  /**
   * Writes the envelope as it is now (fsynced), after any write before it. A message with nothing
   * left pending is not written: its removal, durable too, follows at once (one directory fsync,
   * shared, instead of an envelope write and two fsyncs per delivered message).
   */
  Future<Void> save(WorkerExecutor workers, Spool spool) {
    Envelope snapshot = envelope;
    if (snapshot.equals(written) || snapshot.complete()) {
      return writes;
    }
    written = snapshot;
    writes = writes.compose(v -> workers.executeBlocking(() -> {
      spool.writeEnvelope(snapshot);
      return null;
    }, false));
    return writes;
  }

  /** Completes when every write asked for so far is done. */
  Future<Void> settled() {
    return writes;
  }

  private void set(String address, Envelope.Recipient.State state) {
    envelope = envelope.withRecipients(envelope.recipients().stream()
        .map(r -> r.address().equals(address) && r.state() == Envelope.Recipient.State.PENDING ? r.withState(state) : r)
        .toList());
  }
}
