package org.postern.queue;

import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import org.postern.spool.Envelope;
import org.postern.spool.MessageLock;
import org.postern.spool.Spool;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * One delivery attempt of one message: the recipients' states as results come in, the permanent
 * failures waiting for their bounce, and the chain of envelope writes (each fsynced, in order).
 * Changed on the queue verticle's context only, or on a worker while nothing else runs for the
 * message.
 *
 * <p>Identical recipients are one recipient, as in Exim, which discards duplicates after routing
 * and marks them done with their original: the same address twice (the domain compared without
 * case, the local part with it, as Exim's duplicate check does) is delivered, logged and bounced
 * once, and every copy in the envelope takes the result. A recipient's update costs the number of
 * its copies, not the size of the envelope (a message may carry 50,000 recipients,
 * {@code recipients_max}).
 */
final class MessageAttempt {
  private final Envelope read;
  private final int receivedHeaders;
  private final boolean force;
  private final MessageLock lock;
  /** The envelope's recipients with their current states, in order; alias targets are appended. */
  private final List<Envelope.Recipient> recipients;
  /** Indices in {@link #recipients} of the pending copies of each distinct recipient, in envelope order. */
  private final Map<String, List<Integer>> pending = new LinkedHashMap<>();
  /** Every address in the envelope, lower-cased: an alias target already there is not added again. */
  private final Set<String> addresses = new HashSet<>();
  private final Map<String, BounceRequest.FailedRecipient> failures = new LinkedHashMap<>();
  /** Deliveries to report to the sender (RFC 3461 NOTIFY=SUCCESS), in the order they happened. */
  private final List<BounceRequest.FailedRecipient> successes = new ArrayList<>();
  private boolean frozen;
  private int warningsSent;
  private long changes;
  private long writtenChanges;
  private Future<Void> writes = Future.succeededFuture();
  private boolean remoteDeliveries;

  /**
   * An attempt at the message of {@code envelope}, whose {@code lock} the caller holds. Linear in
   * the recipients: build it on a worker.
   */
  MessageAttempt(Envelope envelope, int receivedHeaders, boolean force, MessageLock lock) {
    this.read = envelope;
    this.lock = lock;
    this.receivedHeaders = receivedHeaders;
    this.force = force;
    this.frozen = envelope.frozen();
    this.warningsSent = envelope.warningsSent();
    this.recipients = new ArrayList<>(envelope.recipients());
    for (int i = 0; i < recipients.size(); i++) {
      index(i);
    }
  }

  private void index(int i) {
    Envelope.Recipient r = recipients.get(i);
    addresses.add(r.address().toLowerCase(Locale.ROOT));
    if (r.state() == Envelope.Recipient.State.PENDING) {
      pending.computeIfAbsent(unique(r.address()), k -> new ArrayList<>(1)).add(i);
    }
  }

  /** Exim's duplicate key: the address with its domain lower-cased (local parts are case-sensitive). */
  static String unique(String address) {
    int at = address.lastIndexOf('@');
    return at < 0 ? address : address.substring(0, at) + address.substring(at).toLowerCase(Locale.ROOT);
  }

  String id() {
    return read.id();
  }

  /**
   * The message as read from the spool: sender, arrival, size, body type and the other facts an
   * attempt does not change. Its recipients' states are those of the start of the attempt.
   */
  Envelope message() {
    return read;
  }

  /** The envelope as it is now, every recipient copy with its state. Linear in the recipients: call it on a worker. */
  Envelope envelope() {
    return read.withRecipients(recipients).withFrozen(frozen).withWarningsSent(warningsSent);
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

  boolean frozen() {
    return frozen;
  }

  /** Exim's {@code delay_warning}: how many "still not delivered" warnings the sender has had. */
  int warningsSent() {
    return warningsSent;
  }

  /** The distinct pending recipients (the first copy of each), in envelope order. */
  List<Envelope.Recipient> pending() {
    List<Envelope.Recipient> out = new ArrayList<>(pending.size());
    pending.values().forEach(copies -> out.add(recipients.get(copies.get(0))));
    return out;
  }

  /** True once no recipient is pending. */
  boolean complete() {
    return pending.isEmpty();
  }

  /** Records a permanent failure; the recipient is marked failed once its bounce is on the spool. */
  void fail(BounceRequest.FailedRecipient failure) {
    failures.putIfAbsent(unique(failure.address()), failure);
  }

  boolean failed(String address) {
    return failures.containsKey(unique(address));
  }

  List<BounceRequest.FailedRecipient> failures() {
    return List.copyOf(failures.values());
  }

  /**
   * A delivery the sender may want to hear of ({@code Action: delivered}, or {@code relayed} when
   * it names a remote host); whether NOTIFY asks for it is decided when the report is made.
   */
  void succeeded(BounceRequest.FailedRecipient delivery) {
    successes.add(delivery);
  }

  List<BounceRequest.FailedRecipient> successes() {
    return List.copyOf(successes);
  }

  /** Every pending copy of {@code address} is delivered. */
  void delivered(String address) {
    settle(unique(address), Envelope.Recipient.State.DELIVERED);
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
    for (Envelope.Recipient r : added) {
      if (!addresses.contains(r.address().toLowerCase(Locale.ROOT))) {
        recipients.add(r);
        index(recipients.size() - 1);
        changes++;
      }
    }
  }

  /** A delay warning for this message is on the spool: counted in the envelope, written with it. */
  void warned() {
    warningsSent++;
    changes++;
  }

  /** Marks every recorded failure failed, once its bounce is on the spool. */
  void markFailed() {
    failures.keySet().forEach(key -> settle(key, Envelope.Recipient.State.FAILED));
  }

  /**
   * Freezes the message instead of bouncing its failures (it is a bounce itself). The failed
   * recipients stay pending, as in Exim, so that an administrator who mends the cause and thaws
   * the message ({@code -Mt}, {@code -M}) has it delivered rather than silently completed.
   */
  void freeze() {
    frozen = true;
    changes++;
  }

  /** Thaws the message for this attempt ({@code -M}, {@code -qff}); written with the envelope. */
  void thaw() {
    frozen = false;
    changes++;
  }

  /** True when the envelope changed since it was last written. */
  boolean dirty() {
    return changes != writtenChanges;
  }

  /**
   * Writes the envelope as it is now (fsynced), after any write before it. A message with nothing
   * left pending is not written: its removal, durable too, follows at once (one directory fsync,
   * shared, instead of an envelope write and two fsyncs per delivered message). Only the states are
   * copied here; the envelope is built and serialised on a worker.
   */
  Future<Void> save(WorkerExecutor workers, Spool spool) {
    if (!dirty() || complete()) {
      return writes;
    }
    writtenChanges = changes;
    List<Envelope.Recipient> states = Arrays.asList(recipients.toArray(new Envelope.Recipient[0]));
    boolean frozenNow = frozen;
    int warningsNow = warningsSent;
    writes = writes.compose(v -> workers.executeBlocking(() -> {
      spool.writeEnvelope(read.withRecipients(states).withFrozen(frozenNow).withWarningsSent(warningsNow));
      return null;
    }, false));
    return writes;
  }

  /** Completes when every write asked for so far is done. */
  Future<Void> settled() {
    return writes;
  }

  private void settle(String key, Envelope.Recipient.State state) {
    List<Integer> copies = pending.remove(key);
    if (copies == null) {
      return;
    }
    for (int i : copies) {
      recipients.set(i, recipients.get(i).withState(state));
    }
    changes++;
  }
}
