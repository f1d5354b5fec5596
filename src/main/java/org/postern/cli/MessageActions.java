package org.postern.cli;

import org.postern.log.MainLog;
import org.postern.queue.BounceRequest;
import org.postern.queue.BounceSpooler;
import org.postern.spool.Envelope;
import org.postern.spool.MessageLock;
import org.postern.spool.Spool;

import java.io.IOException;
import java.io.PrintStream;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * {@code -Mrm}, {@code -Mf}, {@code -Mt} and {@code -Mg} on the spool, each message under its
 * {@link MessageLock} so that none is changed in the middle of a delivery (by the daemon or a
 * {@code -q} run in another process). Outcomes are printed as Exim prints them, one line per id:
 * {@code Message <id> has been removed} on stdout ({@code -Mg} is silent), refusals on stderr. Runs on the calling thread
 * (it blocks); a failed id does not stop the others.
 */
final class MessageActions {
  /** Exim's reason for every recipient failed by {@code -Mg}, in the main log and in the bounce. */
  static final String CANCELLED = "delivery cancelled by administrator";

  /** What to do to each message. */
  enum Action { REMOVE, FREEZE, THAW, GIVE_UP }

  private final Spool spool;
  private final String user;
  private final String primaryHostname;
  private final PrintStream out;
  private final PrintStream err;

  /** {@code primaryHostname} signs the bounces of {@code -Mg}, as the queue's do. */
  MessageActions(Spool spool, String user, String primaryHostname, PrintStream out, PrintStream err) {
    this.spool = spool;
    this.user = user;
    this.primaryHostname = primaryHostname;
    this.out = out;
    this.err = err;
  }

  /** 0 when every message was handled, 1 when any was unknown, locked or already in that state. */
  int apply(Action action, List<String> ids) throws IOException {
    int status = 0;
    for (String id : ids) {
      if (!applyOne(action, id)) {
        status = 1;
      }
    }
    return status;
  }

  private boolean applyOne(Action action, String id) throws IOException {
    if (!spool.exists(id)) {
      err.println("postern: message " + id + ": no such message");
      return false;
    }
    Optional<MessageLock> held = MessageLock.tryLock(spool, id);
    if (held.isEmpty()) {
      err.println("postern: message " + id + " is locked");
      return false;
    }
    try (MessageLock lock = held.get()) {
      // Delivered and removed between the check and the lock: gone all the same.
      if (!spool.exists(lock.id())) {
        err.println("postern: message " + id + ": no such message");
        return false;
      }
      return switch (action) {
        case REMOVE -> remove(id);
        case FREEZE -> setFrozen(id, true);
        case THAW -> setFrozen(id, false);
        case GIVE_UP -> giveUp(id);
      };
    }
  }

  private boolean remove(String id) throws IOException {
    spool.remove(id);
    MainLog.write(id + " removed by " + user + "\n" + id + " Completed");
    out.println("Message " + id + " has been removed");
    return true;
  }

  private boolean setFrozen(String id, boolean frozen) throws IOException {
    Envelope envelope = spool.readEnvelope(id);
    if (envelope.frozen() == frozen) {
      err.println("postern: message " + id + (frozen ? " is already frozen" : " is not frozen"));
      return false;
    }
    spool.writeEnvelope(envelope.withFrozen(frozen));
    MainLog.write(id + (frozen ? " frozen by " : " unfrozen by ") + user);
    out.println("Message " + id + (frozen ? " is now frozen" : " is no longer frozen"));
    return true;
  }

  /**
   * Exim's {@code -Mg}: the pending recipients fail and the sender gets one bounce, left on the
   * spool for the next queue run; a bounce (sender {@code <>}) is dropped without one. The bounce
   * is durable before the message goes, and the message's removal is durable too (as after a
   * remote delivery): a crash must not bring back a message whose sender was told it failed.
   */
  private boolean giveUp(String id) throws IOException {
    Envelope envelope = spool.readEnvelope(id);
    if (envelope.frozen()) {
      // -Mg is Exim's forced delivery with every address failed: a frozen message is thawed first.
      MainLog.write(id + " Unfrozen by forced delivery");
    }
    MainLog.write(id + " cancelled by " + user);
    if (!envelope.sender().isEmpty()) {
      Instant now = Instant.now();
      List<BounceRequest.FailedRecipient> failed = envelope.recipients().stream()
          .filter(r -> r.state() == Envelope.Recipient.State.PENDING)
          .map(r -> BounceRequest.FailedRecipient.local(r.address(), CANCELLED, now)).toList();
      if (!failed.isEmpty()) {
        Envelope bounce = BounceSpooler.spool(spool, envelope, failed, primaryHostname, now);
        MainLog.write(BounceSpooler.arrivalLogLine(bounce, id));
      }
    }
    spool.removeDelivered(id);
    MainLog.write(id + " Completed");
    // Exim's -Mg prints nothing: the main log has the cancellation and the bounce's id.
    return true;
  }
}
