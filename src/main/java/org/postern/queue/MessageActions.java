package org.postern.queue;

import org.postern.log.MainLog;
import org.postern.spool.Envelope;
import org.postern.spool.MessageLock;
import org.postern.spool.Spool;

import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The administrator's actions on one queued message, shared by the command line ({@code -Mrm},
 * {@code -Mf}, {@code -Mt}, {@code -Mg}) and the admin HTTP API: each under the message's
 * {@link MessageLock}, so that none is changed in the middle of a delivery (by the daemon or a
 * {@code -q} run in another process), and each logged in the main log as Exim logs it. Blocking:
 * run it on a worker thread.
 */
public final class MessageActions {
  /** Exim's reason for every recipient failed by {@code -Mg}, in the main log and in the bounce. */
  public static final String CANCELLED = "delivery cancelled by administrator";

  /** What to do to a message. */
  public enum Action { REMOVE, FREEZE, THAW, GIVE_UP }

  /** What came of it; anything but {@code DONE} left the message as it was. */
  public enum Outcome { DONE, NO_SUCH_MESSAGE, LOCKED, ALREADY_FROZEN, NOT_FROZEN }

  private final Spool spool;
  private final String user;
  private final String primaryHostname;

  /**
   * {@code user} is who the main log names ({@code frozen by <user>}); {@code primaryHostname}
   * signs the bounces of {@code -Mg}, as the queue's do.
   */
  public MessageActions(Spool spool, String user, String primaryHostname) {
    this.spool = spool;
    this.user = user;
    this.primaryHostname = primaryHostname;
  }

  /**
   * As the user this process runs as: the command line's actions and the admin API's, run by the
   * daemon, write the same main-log lines ({@code frozen by postern}).
   */
  public static MessageActions asProcessUser(Spool spool, String primaryHostname) {
    return new MessageActions(spool, System.getProperty("user.name", "unknown"), primaryHostname);
  }

  /**
   * Exim's report of an outcome, as {@code exim -Mrm} prints it: {@code Message <id> has been
   * removed} for a success (null for {@code -Mg}, which prints nothing), {@code message <id> is
   * locked} and the like for a refusal.
   */
  public static String report(Action action, Outcome outcome, String id) {
    return switch (outcome) {
      case DONE -> switch (action) {
        case REMOVE -> "Message " + id + " has been removed";
        case FREEZE -> "Message " + id + " is now frozen";
        case THAW -> "Message " + id + " is no longer frozen";
        case GIVE_UP -> null;
      };
      case NO_SUCH_MESSAGE -> "message " + id + ": no such message";
      case LOCKED -> "message " + id + " is locked";
      case ALREADY_FROZEN -> "message " + id + " is already frozen";
      case NOT_FROZEN -> "message " + id + " is not frozen";
    };
  }

  /** Applies {@code action} to message {@code id}. */
  public Outcome apply(Action action, String id) throws IOException {
    if (!spool.exists(id)) {
      return Outcome.NO_SUCH_MESSAGE;
    }
    Optional<MessageLock> held = MessageLock.tryLock(spool, id);
    if (held.isEmpty()) {
      return Outcome.LOCKED;
    }
    try (MessageLock lock = held.get()) {
      // Delivered and removed between the check and the lock: gone all the same.
      if (!spool.exists(lock.id())) {
        return Outcome.NO_SUCH_MESSAGE;
      }
      return switch (action) {
        case REMOVE -> remove(id);
        case FREEZE -> setFrozen(id, true);
        case THAW -> setFrozen(id, false);
        case GIVE_UP -> giveUp(id);
      };
    }
  }

  private Outcome remove(String id) throws IOException {
    spool.remove(id);
    MainLog.write(id + " removed by " + user + "\n" + id + " Completed");
    return Outcome.DONE;
  }

  private Outcome setFrozen(String id, boolean frozen) throws IOException {
    Envelope envelope = spool.readEnvelope(id);
    if (envelope.frozen() == frozen) {
      return frozen ? Outcome.ALREADY_FROZEN : Outcome.NOT_FROZEN;
    }
    spool.writeEnvelope(envelope.withFrozen(frozen));
    MainLog.write(id + (frozen ? " frozen by " : " unfrozen by ") + user);
    return Outcome.DONE;
  }

  /**
   * Exim's {@code -Mg}: the pending recipients fail and the sender gets one bounce, left on the
   * spool for the next queue run; a bounce (sender {@code <>}) is dropped without one. The bounce
   * is durable before the message goes, and the message's removal is durable too (as after a
   * remote delivery): a crash must not bring back a message whose sender was told it failed.
   */
  private Outcome giveUp(String id) throws IOException {
    Envelope envelope = spool.readEnvelope(id);
    if (envelope.frozen()) {
      // -Mg is Exim's forced delivery with every address failed: a frozen message is thawed first.
      MainLog.write(id + " Unfrozen by forced delivery");
    }
    MainLog.write(id + " cancelled by " + user);
    if (!envelope.sender().isEmpty()) {
      Instant now = Instant.now();
      List<BounceRequest.FailedRecipient> failed = envelope.recipients().stream()
          .filter(r -> r.state() == Envelope.Recipient.State.PENDING && r.notifies("FAILURE"))
          .map(r -> BounceRequest.FailedRecipient.local(r.address(), CANCELLED, now)).toList();
      if (!failed.isEmpty()) {
        Envelope bounce = BounceSpooler.spool(spool, envelope, failed, primaryHostname, now);
        MainLog.write(BounceSpooler.arrivalLogLine(bounce, id));
      }
    }
    spool.removeDelivered(id);
    MainLog.write(id + " Completed");
    return Outcome.DONE;
  }
}
