package org.postern.queue;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import org.postern.bus.Addresses;
import org.postern.bus.BusCodecs;
import org.postern.bus.DeliveryRequest;
import org.postern.bus.DeliveryResult;
import org.postern.bus.DeliveryStatus;
import org.postern.bus.EnqueueReply;
import org.postern.bus.EnqueueRequest;
import org.postern.bus.LocalDeliveryRequest;
import org.postern.bus.MessageEvent;
import org.postern.bus.QueueFlushReply;
import org.postern.bus.QueueFlushRequest;
import org.postern.config.ConfigHolder;
import org.postern.config.PosternConfig;
import org.postern.delivery.MaildirDeliveryVerticle;
import org.postern.delivery.MaildirTransport;
import org.postern.dns.DnsResolvers;
import org.postern.log.MainLog;
import org.postern.spool.Envelope;
import org.postern.spool.MessageLock;
import org.postern.spool.Spool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;

/**
 * The queue: recovers the spool at start (before any listener accepts mail), delivers each new
 * message as soon as it is committed, and runs the queue every {@code queue_run_interval}. Local
 * domains go to maildir, other domains through the routers to the smtp transport
 * ({@link RemoteDeliveries}). One delivery of a message at a time; the envelope is rewritten
 * (fsynced) after each result so a crash re-delivers at most what was in flight. Permanent failures
 * are reported to the sender in one bounce per attempt; a failing bounce is frozen.
 *
 * <p>Consumes {@code postern.queue.enqueue} ({@link EnqueueRequest}, node-local, answered by an
 * {@link EnqueueReply}), {@code postern.queue.deliver.local} ({@link LocalDeliveryRequest}, node-local,
 * {@link DeliveryBeforeAck}) and {@code postern.queue.flush} ({@link QueueFlushRequest} as JSON,
 * cluster-wide, answered by a {@link QueueFlushReply}).
 * Verticle config: {@code run_at_start} (true), {@code queue_run_interval_ms} (overrides
 * {@code queue_run_interval}).
 */
public final class QueueVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(QueueVerticle.class);
  private static final int MIN_MESSAGES_IN_PROGRESS = 16;
  /**
   * At most this many mailboxes are written inside the attempt's own worker task, one after the
   * other; a message for more goes to the maildir transport, which writes them in parallel.
   */
  static final int INLINE_MAILBOXES = 4;
  /** Why a recipient in a remote domain stays queued when no remote router is configured. */
  static final String REMOTE_NOT_CONFIGURED = "remote delivery is not configured";
  private final Set<String> inFlight = new HashSet<>();
  /** Until the first queue run after start has finished, a delivery may repeat one cut short by a crash. */
  private boolean recovering = true;
  private ConfigHolder config;
  private Spool spool;
  private WorkerExecutor workers;
  /**
   * The first task of each attempt, which may write maildir files and remove the message (fsyncs):
   * the maildir transport's pool, so that as many messages as are in progress can wait on the disk
   * at once and share its group commits, while the queue's own few workers stay free.
   */
  private WorkerExecutor attemptWorkers;
  private RetryDatabase retryDatabase;
  private RemoteDeliveries remote;
  private MessageEvents events;
  /**
   * Messages in progress (locked, envelope in memory) at once. A queue run of a large queue
   * would otherwise lock and read every message up front while they wait for delivery permits:
   * one lock each, all held on the one lock file, and every envelope in memory.
   */
  private final DeliveryPermits messages = new DeliveryPermits(MIN_MESSAGES_IN_PROGRESS);
  private final Clock clock;

  /** The queue on the system clock, as {@code verticles.json} deploys it. */
  public QueueVerticle() {
    this(Clock.systemUTC());
  }

  /**
   * The queue on the given clock: retry times, delay warnings and bounce ages are reckoned on it
   * (message arrival times stay as the spool recorded them), so tests can move time forward.
   */
  public QueueVerticle(Clock clock) {
    this.clock = clock;
  }

  @Override
  public Future<?> start() {
    config = ConfigHolder.of(vertx);
    PosternConfig c = config.current();
    spool = new Spool(c.spoolDirectory());
    workers = vertx.createSharedWorkerExecutor("postern-queue", 4);
    attemptWorkers = MaildirTransport.workers(vertx);
    retryDatabase = new RetryDatabase(c.spoolDirectory(), c.delivery().retryRules().dataExpire());
    events = new MessageEvents(vertx, clock);
    remote = new RemoteDeliveries(vertx, workers, spool, retryDatabase,
        new RemoteRouter(settings -> DnsResolvers.of(vertx, settings), new Random()),
        new DeliveryPermits(c.delivery().remoteMaxParallel()), clock, events);
    BusCodecs.register(vertx);
    vertx.eventBus().<EnqueueRequest>localConsumer(Addresses.QUEUE_ENQUEUE, this::enqueued);
    vertx.eventBus().<JsonObject>consumer(Addresses.QUEUE_FLUSH, this::flush);
    vertx.eventBus().<LocalDeliveryRequest>localConsumer(Addresses.QUEUE_DELIVER_LOCAL,
        new DeliveryBeforeAck(vertx, attemptWorkers, events, config::current)::handle);
    long interval = config().getLong("queue_run_interval_ms", c.delivery().queueRunInterval().toMillis());
    vertx.setPeriodic(interval, interval, t -> {
      // Exim tidies its hints databases now and then; here, at each periodic run.
      workers.executeBlocking(() -> retryDatabase.tidy(clock.instant()), false);
      removeOrphans().onComplete(r -> runQueue(QueueRunFilter.ALL));
    });
    return workers.executeBlocking(() -> {
      spool.create();
      retryDatabase.load();
      return null;
    }, false).compose(v -> removeOrphans()).onSuccess(v -> {
      if (config().getBoolean("run_at_start", true)) {
        runQueue(QueueRunFilter.ALL).compose(Runs::finished).onComplete(r -> recovering = false);
      } else {
        recovering = false;
      }
    });
  }

  private void enqueued(Message<EnqueueRequest> msg) {
    EnqueueRequest request = msg.body();
    events.message(MessageEvent.Kind.ACCEPTED, request.id());
    if (config.current().queueOnly() || request.queueOnly()) {
      // Exim's queue_only (or an ACL's control = queue): accept now, deliver at the next queue run.
      // Exim's delay_delivery log line: the message's story pauses here until a queue run.
      MainLog.write(request.id() + " no immediate delivery: queued" + (request.queueOnly() ? " by ACL" : ""));
      msg.reply(new EnqueueReply(request.id(), true));
      return;
    }
    deliver(request.id(), QueueRunFilter.ALL).onComplete(r -> msg.reply(new EnqueueReply(request.id(), false)));
  }

  /**
   * Crash leftovers go once they are older than the receive timeout (plus a minute): younger
   * ones may belong to a message another process is receiving right now.
   */
  private Future<Void> removeOrphans() {
    java.time.Duration minAge = config.current().smtpReceiveTimeout().plusMinutes(1);
    return workers.<Void>executeBlocking(() -> {
      List<String> orphans = spool.removeOrphans(minAge);
      if (!orphans.isEmpty()) {
        LOG.info("removed {} unacknowledged spool file(s) left by a crash: {}", orphans.size(), orphans);
      }
      return null;
    }, false);
  }

  private void flush(Message<JsonObject> msg) {
    QueueFlushRequest request = QueueFlushRequest.fromJson(msg.body());
    RunTally tally = request.waitForDeliveries() && msg.replyAddress() != null ? new RunTally(vertx) : null;
    runQueue(QueueRunFilter.of(request)).onComplete(ar -> {
      if (msg.replyAddress() == null) {
        return;
      }
      int started = ar.succeeded() ? ar.result().started() : 0;
      if (tally == null || ar.failed()) {
        msg.reply(new QueueFlushReply(started).toJson());
        return;
      }
      ar.result().finished().onComplete(d -> msg.reply(tally.end(started, ar.result().ids()).toJson()));
    });
  }

  /**
   * The messages a queue run has started, and the future of their end.
   *
   * @param started how many messages were selected and started
   * @param finished completes when every one of them has been attempted
   * @param ids      the messages selected
   */
  public record Runs(int started, Future<Void> finished, List<String> ids) {
  }

  /**
   * Starts a queue run: every message on the spool that the filter selects and that is not being
   * delivered already is attempted. Completes once the messages are selected; {@link Runs#finished()}
   * once they have been attempted.
   */
  public Future<Runs> runQueue(QueueRunFilter filter) {
    return workers.executeBlocking(() -> {
      List<String> selected = new ArrayList<>();
      for (String id : spool.list()) {
        try {
          Envelope envelope = spool.readEnvelope(id);
          if (BouncePolicy.discardFrozenBounce(envelope, clock.instant(),
              config.current().delivery().ignoreBounceErrorsAfter())) {
            discardFrozenBounce(id);
          } else if (filter.selects(envelope)) {
            selected.add(id);
          }
        } catch (java.io.IOException e) {
          // Delivered and removed meanwhile.
        }
      }
      return selected;
    }, false).map(ids -> {
      List<Future<Void>> runs = new ArrayList<>();
      int started = 0;
      for (String id : ids) {
        if (!inFlight.contains(id)) {
          started++;
        }
        runs.add(deliver(id, filter));
      }
      return new Runs(started, Future.join(runs).mapEmpty(), ids);
    });
  }

  private Future<Void> deliver(String id, QueueRunFilter filter) {
    if (!inFlight.add(id)) {
      return Future.succeededFuture();
    }
    PosternConfig c = config.current();
    messages.limit(messagesInProgress(c));
    return messages.run(() -> attemptLocked(id, filter, c)).onComplete(r -> inFlight.remove(id));
  }

  /** Enough messages in progress to keep every remote delivery permit busy, and local deliveries going. */
  private static int messagesInProgress(PosternConfig c) {
    return Math.max(MIN_MESSAGES_IN_PROGRESS, 2 * c.delivery().remoteMaxParallel());
  }

  private Future<Void> attemptLocked(String id, QueueRunFilter filter, PosternConfig c) {
    // Another process (postern -q, -M, -Mrm, a second daemon) may be on this message: its lock says so.
    MessageLock[] lock = new MessageLock[1];
    boolean maybeRepeated = recovering;
    boolean maildirHere = MaildirTransport.deployed(vertx);
    // One worker task takes the message as far as it can go without waiting for anything but the
    // disk: lock, read, route, the maildir deliveries, and (when nothing is left for a remote
    // transport) the bounce and the removal. Each hand-off to a worker and back costs a wake-up and
    // a context switch on both sides, which cost more than the work of a locally delivered message.
    return attemptWorkers.<Step>executeBlocking(() -> {
          lock[0] = MessageLock.tryLock(spool, id).orElse(null);
          if (lock[0] == null || !spool.exists(id)) {
            return null;
          }
          Envelope envelope = spool.readEnvelope(id);
          MessageAttempt a = new MessageAttempt(envelope, ReceivedHeaders.count(spool.dataFile(id)), filter.force(),
              lock[0]);
          if (a.frozen() && !filter.thaw()) {
            return null;
          }
          if (a.frozen()) {
            a.thaw();
            MainLog.write(id + " Unfrozen by forced delivery");
          }
          return start(a, c, maybeRepeated, maildirHere);
        }, false)
        .compose(step -> step == null ? Future.<Void>succeededFuture() : step.next(this, c))
        .recover(e -> {
          LOG.warn("{}: delivery attempt failed: {}", id, e.toString());
          return Future.succeededFuture();
        })
        // finish() releases the lock with its last spool write; this is for the other ways out.
        .eventually(() -> lock[0] == null || !lock[0].held() ? Future.succeededFuture()
            : workers.executeBlocking(() -> {
              lock[0].close();
              return null;
            }, false));
  }

  /**
   * Where an attempt goes after its first worker task: finished (the reports it spooled are to be
   * delivered), to the maildir transport over the bus, or to the remote transports.
   */
  private record Step(MessageAttempt attempt, LocalRouting.Plan plan, RemoteDeliveries.Due remote,
                      List<Envelope> reports) {
    static Step finished(List<Envelope> reports) {
      return new Step(null, null, null, reports);
    }

    Future<Void> next(QueueVerticle q, PosternConfig c) {
      if (reports != null) {
        return q.deliverReports(reports);
      }
      if (plan != null) {
        return q.deliverThroughBus(attempt, plan, c).compose(v -> q.afterLocal(attempt, c));
      }
      return q.deliverRemotely(attempt, remote, c);
    }
  }

  /**
   * The blocking start of an attempt. Local deliveries, then remote ones, then the bounce and the
   * spool; the work that grows with the recipients (routing, results, log lines) runs on a worker:
   * a message may have 50,000. A few mailboxes are written here, one after the other; more go to
   * the transport over the bus, which writes them in parallel.
   */
  private Step start(MessageAttempt a, PosternConfig c, boolean maybeRepeated, boolean maildirHere)
      throws java.io.IOException {
    if (a.receivedHeaders() > c.delivery().receivedHeadersMax()) {
      for (Envelope.Recipient r : a.pending()) {
        MainLog.write(a.id() + " ** " + r.address() + ": " + ReceivedHeaders.LOOP);
        events.recipient(MessageEvent.Kind.FAILED, a.id(), r.address(), null, null, null, 0, ReceivedHeaders.LOOP);
        a.fail(BounceRequest.FailedRecipient.local(r.address(), ReceivedHeaders.LOOP, clock.instant()));
      }
      return Step.finished(finishBlocking(a, c));
    }
    if (c.delivery().routesLocal()) {
      LocalRouting.Plan plan = LocalRouting.plan(a.pending(), c);
      Set<String> mailboxes = plan.allMailboxes();
      if (mailboxes.isEmpty()) {
        // Nothing for the maildir transport (a relayed message).
        record(a, plan, NO_RESULTS, LocalRouting.routerName(c));
      } else if (maildirHere && mailboxes.size() <= INLINE_MAILBOXES) {
        record(a, plan, MaildirTransport.deliver(c, request(a, mailboxes, maybeRepeated)), LocalRouting.routerName(c));
      } else {
        return new Step(a, plan, null, null);
      }
    }
    List<Envelope.Recipient> remoteRecipients = remoteRecipients(a, c);
    return remoteRecipients.isEmpty() ? Step.finished(finishBlocking(a, c))
        : new Step(a, null, remote.due(a, remoteRecipients, c), null);
  }

  /** After the maildir transport answered over the bus: the remote recipients, then the end. */
  private Future<Void> afterLocal(MessageAttempt a, PosternConfig c) {
    return a.save(workers, spool)
        .compose(v -> workers.executeBlocking(() -> remoteRecipients(a, c), false))
        .compose(remoteRecipients -> remoteRecipients.isEmpty() ? finish(a, c)
            : remote.deliver(a, remoteRecipients, c).compose(v -> finish(a, c)));
  }

  /** The due remote recipients, after the local results are on the spool (so a crash does not repeat them), then the end. */
  private Future<Void> deliverRemotely(MessageAttempt a, RemoteDeliveries.Due due, PosternConfig c) {
    return a.save(workers, spool).compose(v -> remote.deliver(a, due, c)).compose(v -> finish(a, c));
  }

  /** The pending recipients left for the remote routers; logs why they stay queued when there are none. */
  private static List<Envelope.Recipient> remoteRecipients(MessageAttempt a, PosternConfig c) {
    List<Envelope.Recipient> remoteRecipients = a.pending().stream()
        .filter(r -> !a.failed(r.address()))
        .filter(r -> !c.delivery().routesLocal() || !c.localDomains().matches(r.domain())).toList();
    if (!remoteRecipients.isEmpty() && !c.delivery().routesRemote()) {
      for (Envelope.Recipient r : remoteRecipients) {
        MainLog.write(a.id() + " == " + r.address() + " R=none: " + REMOTE_NOT_CONFIGURED
            + "; message stays queued");
      }
      return List.of();
    }
    return remoteRecipients;
  }

  private static final DeliveryResult NO_RESULTS = new DeliveryResult(List.of(), List.of());

  /** Mailbox names each written at most once, however many recipients lead to them, in a request to the transport. */
  private DeliveryRequest request(MessageAttempt a, Set<String> mailboxes, boolean maybeRepeated) {
    Envelope e = a.message();
    return new DeliveryRequest(a.id(), LocalRouting.TRANSPORT, spool.dataFile(a.id()).toString(), e.sender(),
        e.size(), "8BITMIME".equalsIgnoreCase(e.bodyType()), e.receivedAt(), maybeRepeated, List.copyOf(mailboxes),
        List.of());
  }

  /** The maildir transport over the bus (many mailboxes, or a node where it runs as another verticle). */
  private Future<Void> deliverThroughBus(MessageAttempt a, LocalRouting.Plan plan, PosternConfig c) {
    Future<DeliveryResult> results = vertx.eventBus().<DeliveryResult>request(MaildirDeliveryVerticle.ADDRESS,
            request(a, plan.allMailboxes(), recovering),
            new DeliveryOptions().setLocalOnly(true).setSendTimeout(300_000))
        .map(Message::body);
    return results.compose(r -> workers.<Void>executeBlocking(() -> {
      record(a, plan, r, LocalRouting.routerName(c));
      return null;
    }, false));
  }

  /**
   * Applies the maildir transport's results and writes the main-log lines, on a worker. As Exim,
   * one line per delivery: a mailbox that several recipients lead to (the same address twice,
   * aliases of one user) is delivered once, logged with the first of them, and every one of them
   * takes its result.
   */
  private void record(MessageAttempt a, LocalRouting.Plan plan, DeliveryResult results, String router) {
    String id = a.id();
    Map<String, DeliveryResult.Recipient> byMailbox = new HashMap<>();
    results.recipients().forEach(r -> byMailbox.put(r.address(), r));
    Set<String> logged = new HashSet<>();
    for (Envelope.Recipient r : a.pending()) {
      if (plan.unknown().contains(r.address())) {
        MainLog.write(id + " ** " + r.address() + ": " + RemoteRouter.UNROUTEABLE);
        events.recipient(MessageEvent.Kind.FAILED, id, r.address(), null, null, null, 0, RemoteRouter.UNROUTEABLE);
        a.fail(BounceRequest.FailedRecipient.local(r.address(), RemoteRouter.UNROUTEABLE, clock.instant()));
        continue;
      }
      Set<String> mailboxes = plan.mailboxesByRecipient().get(r.address());
      if (mailboxes == null) {
        continue;
      }
      DeliveryResult.Recipient failure = null;
      boolean deferred = false;
      for (String mailbox : mailboxes) {
        DeliveryResult.Recipient result = byMailbox.getOrDefault(mailbox, DeliveryResult.Recipient.local(mailbox,
            DeliveryStatus.DEFERRED, 0, null, "no result from the " + LocalRouting.TRANSPORT + " transport"));
        if (logged.add(mailbox)) {
          String tags = LocalRouting.tags(mailbox, r.address(), router);
          MainLog.write(id + switch (result.status()) {
            case DELIVERED -> " =>" + tags;
            case DEFERRED -> " ==" + tags + " defer: " + result.text();
            case FAILED -> " **" + tags + ": " + result.text();
          });
          events.recipient(switch (result.status()) {
            case DELIVERED -> MessageEvent.Kind.DELIVERED;
            case DEFERRED -> MessageEvent.Kind.DEFERRED;
            case FAILED -> MessageEvent.Kind.FAILED;
          }, id, r.address(), router, LocalRouting.TRANSPORT, null, result.code(), result.text());
        }
        deferred |= result.status() == DeliveryStatus.DEFERRED;
        failure = result.status() == DeliveryStatus.FAILED ? result : failure;
      }
      if (failure == null && !deferred) {
        a.delivered(r.address());
        if (plan.expanded().contains(r.address())) {
          // RFC 3461 6.2.7.3: one "expanded" report for the alias; its members do not report success.
          a.succeeded(BounceRequest.FailedRecipient.expanded(r.address(), clock.instant()));
        } else if (!mailboxes.isEmpty()) {
          a.succeeded(BounceRequest.FailedRecipient.local(r.address(), "delivered", clock.instant()));
        }
        // else an alias to one remote address: that recipient, with this one's NOTIFY, reports.
      } else if (!deferred) {
        a.fail(BounceRequest.FailedRecipient.remote(r.address(), null, null, null, failure.code(),
            failure.enhanced(), failure.text(), clock.instant()));
      }
    }
    a.add(plan.added());
  }

  /**
   * Reports the permanent failures (a bounce, or freezing when the message is a bounce itself),
   * marks them failed, and removes the message once no recipient is pending.
   */
  private Future<Void> finish(MessageAttempt a, PosternConfig c) {
    return a.settled().compose(v -> workers.executeBlocking(() -> finishBlocking(a, c), false))
        .compose(this::deliverReports);
  }

  /** The reports spooled by an attempt (a bounce or delay warning, a success DSN) go out in their turn. */
  private Future<Void> deliverReports(List<Envelope> reports) {
    reports.forEach(report -> deliver(report.id(), QueueRunFilter.ALL));
    return Future.succeededFuture();
  }

  /** {@link #finish}'s work, blocking: returns the reports it spooled. */
  private List<Envelope> finishBlocking(MessageAttempt a, PosternConfig c) throws java.io.IOException {
    Envelope bounce = null;
    if (!a.failures().isEmpty()) {
      if (BouncePolicy.onPermanentFailure(a.message()) == BouncePolicy.FailureAction.BOUNCE) {
        // RFC 3461 NOTIFY=NEVER (or without FAILURE): failed all the same, but nobody is told.
        // The envelope as it is now: alias targets added in this attempt carry their own NOTIFY/ORCPT.
        Envelope now = a.envelope();
        List<BounceRequest.FailedRecipient> told = BouncePolicy.notified(now, a.failures(), "FAILURE");
        if (told.size() < a.failures().size()) {
          // Exim has no line for this; without one an admin cannot tell a withheld bounce from a lost one.
          MainLog.write(a.id() + " no failure DSN for " + a.failures().stream().filter(f -> !told.contains(f))
              .map(BounceRequest.FailedRecipient::address).collect(java.util.stream.Collectors.joining(", "))
              + ": NOTIFY excludes FAILURE");
        }
        if (!told.isEmpty()) {
          bounce = BounceSpooler.spool(spool, now, told, c.primaryHostname(), clock.instant());
          MainLog.write(BounceSpooler.arrivalLogLine(bounce, a.id()));
          events.bounced(a.id(), bounce.id());
        }
        a.markFailed();
      } else {
        a.freeze();
        MainLog.write(a.id() + " *** Frozen (delivery error message)");
      }
    }
    Envelope success = null;
    List<BounceRequest.FailedRecipient> delivered = BouncePolicy.shouldBounce(a.message())
        ? BouncePolicy.notified(a.envelope(), a.successes(), "SUCCESS") : List.of();
    if (!delivered.isEmpty()) {
      success = BounceSpooler.spoolSuccess(spool, a.envelope(), delivered, c.primaryHostname(), clock.instant());
      MainLog.write(BounceSpooler.arrivalLogLine(success, a.id()) + " (success DSN)");
    }
    Envelope warning = null;
    if (bounce == null && !a.complete() && !a.frozen()) {
      warning = delayWarning(a, c);
    }
    if (a.complete() && !a.frozen()) {
      // Local deliveries repeat harmlessly (the maildir name comes from the message id); remote ones would not.
      if (a.hasRemoteDeliveries()) {
        spool.removeDelivered(a.id());
      } else {
        spool.remove(a.id());
      }
      MainLog.write(a.id() + " Completed");
      events.message(MessageEvent.Kind.COMPLETED, a.id());
    } else if (a.dirty()) {
      spool.writeEnvelope(a.envelope());
    }
    a.lock().close();
    List<Envelope> reports = new ArrayList<>(2);
    for (Envelope report : new Envelope[] {bounce != null ? bounce : warning, success}) {
      if (report != null) {
        reports.add(report);
      }
    }
    return reports;
  }

  /** Exim's {@code ignore_bounce_errors_after}: an undeliverable bounce is not kept for ever. Blocking. */
  private void discardFrozenBounce(String id) throws java.io.IOException {
    Optional<MessageLock> lock = MessageLock.tryLock(spool, id);
    if (lock.isEmpty()) {
      return;
    }
    try (MessageLock held = lock.get()) {
      if (spool.exists(id)) {
        spool.removeDelivered(id);
        MainLog.write(id + " Message is frozen: bounce older than ignore_bounce_errors_after, discarded");
        MainLog.write(id + " Completed");
      }
    }
  }

  /**
   * Exim's {@code delay_warning}: once a message has waited past the next warning time, its sender
   * hears which recipients are still being retried. Blocking (spool writes); returns the warning's
   * envelope, or null when none is due.
   */
  private Envelope delayWarning(MessageAttempt a, PosternConfig c) throws java.io.IOException {
    Envelope e = a.envelope();
    java.time.Duration due = BouncePolicy.nextDelayWarning(e, c.delivery().delayWarning(), a.warningsSent());
    Instant now = clock.instant();
    java.time.Duration age = java.time.Duration.between(Instant.ofEpochMilli(e.receivedAt()), now);
    if (due == null || age.compareTo(due) < 0) {
      return null;
    }
    List<BounceRequest.FailedRecipient> waiting = new ArrayList<>();
    for (Envelope.Recipient r : a.pending()) {
      // RFC 3461: a recipient whose NOTIFY does not list DELAY is not warned about.
      if (r.notifies("DELAY")) {
        waiting.add(BounceRequest.FailedRecipient.local(r.address(), "still being retried", now));
      }
    }
    if (waiting.isEmpty()) {
      return null;
    }
    Envelope warning = BounceSpooler.spoolDelayWarning(spool, e, waiting, c.primaryHostname(), now, age);
    MainLog.write(BounceSpooler.arrivalLogLine(warning, e.id()) + " (delay warning " + (a.warningsSent() + 1) + ")");
    a.warned();
    return warning;
  }
}
