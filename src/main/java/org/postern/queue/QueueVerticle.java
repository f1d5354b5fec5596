package org.postern.queue;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.postern.bus.Addresses;
import org.postern.config.ConfigHolder;
import org.postern.config.PosternConfig;
import org.postern.delivery.MaildirDeliveryVerticle;
import org.postern.log.MainLog;
import org.postern.spool.Envelope;
import org.postern.spool.Spool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The queue: recovers the spool at start (before any listener accepts mail), delivers each new
 * message as soon as it is committed, and runs the whole queue periodically. One delivery of a
 * message at a time; the envelope is rewritten (fsynced) after each attempt so a crash re-delivers
 * at most what was in flight. Remote domains wait for the remote transports (queue issue).
 */
public final class QueueVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(QueueVerticle.class);
  private final Set<String> inFlight = new HashSet<>();
  /** Until the first queue run after start has finished, a delivery may repeat one cut short by a crash. */
  private boolean recovering = true;
  private ConfigHolder config;
  private Spool spool;
  private WorkerExecutor workers;

  @Override
  public Future<?> start() {
    config = ConfigHolder.of(vertx);
    spool = new Spool(config.current().spoolDirectory());
    workers = vertx.createSharedWorkerExecutor("postern-queue", 4);
    vertx.eventBus().<JsonObject>localConsumer(Addresses.QUEUE_ENQUEUE, this::enqueued);
    vertx.eventBus().<JsonObject>consumer(Addresses.QUEUE_FLUSH, msg -> {
      runQueue();
      msg.reply(new JsonObject().put("started", true));
    });
    long interval = config().getLong("queue_run_interval_ms", 5 * 60_000L);
    vertx.setPeriodic(interval, interval, t -> removeOrphans().onComplete(r -> runQueue()));
    return workers.executeBlocking(() -> {
      spool.create();
      return null;
    }, false).compose(v -> removeOrphans()).onSuccess(v -> {
      if (config().getBoolean("run_at_start", true)) {
        runQueue().onComplete(r -> recovering = false);
      } else {
        recovering = false;
      }
    });
  }

  private void enqueued(Message<JsonObject> msg) {
    if (config.current().queueOnly() || msg.body().getBoolean("queue_only", false)) {
      // Exim's queue_only (or an ACL's control = queue): accept now, deliver at the next queue run.
      msg.reply(new JsonObject().put("id", msg.body().getString("id")).put("queued", true));
      return;
    }
    deliver(msg.body().getString("id")).onComplete(r -> msg.reply(new JsonObject().put("id", msg.body().getString("id"))));
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

  /** Attempts every message in the spool that is not being delivered already. */
  public Future<Void> runQueue() {
    return workers.executeBlocking(spool::list, false).compose(ids -> {
      List<Future<Void>> runs = new ArrayList<>();
      ids.forEach(id -> runs.add(deliver(id)));
      return Future.join(runs).mapEmpty();
    });
  }

  private Future<Void> deliver(String id) {
    if (!inFlight.add(id)) {
      return Future.succeededFuture();
    }
    PosternConfig c = config.current();
    return workers.executeBlocking(() -> spool.readEnvelope(id), false)
        .compose(envelope -> envelope.frozen() ? Future.succeededFuture() : attempt(envelope, c))
        .recover(e -> {
          LOG.warn("{}: delivery attempt failed: {}", id, e.toString());
          return Future.succeededFuture();
        })
        .eventually(() -> {
          inFlight.remove(id);
          return Future.succeededFuture();
        });
  }

  private Future<Void> attempt(Envelope envelope, PosternConfig c) {
    LocalRouting.Plan plan = LocalRouting.plan(envelope, c);
    Set<String> mailboxes = plan.allMailboxes();
    Future<JsonObject> results = mailboxes.isEmpty() ? Future.succeededFuture(new JsonObject())
        : vertx.eventBus().<JsonObject>request(MaildirDeliveryVerticle.ADDRESS, new JsonObject()
                .put("id", envelope.id())
                .put("data_file", spool.dataFile(envelope.id()).toString())
                .put("sender", envelope.sender())
                .put("received_at", envelope.receivedAt())
                .put("recovering", recovering)
                .put("mailboxes", new JsonArray(new ArrayList<>(mailboxes))),
            new DeliveryOptions().setLocalOnly(true).setSendTimeout(300_000))
        .map(m -> m.body().getJsonObject("results"));
    return results.compose(r -> workers.executeBlocking(() -> {
      Envelope updated = record(envelope, plan, r);
      if (updated.complete()) {
        spool.remove(envelope.id());
        MainLog.write(envelope.id() + " Completed");
      } else if (!updated.equals(envelope)) {
        spool.writeEnvelope(updated);
      }
      return null;
    }, false));
  }

  /** Applies the transport's results to the envelope and writes the main-log lines. */
  private static Envelope record(Envelope envelope, LocalRouting.Plan plan, JsonObject results) {
    String id = envelope.id();
    List<Envelope.Recipient> out = new ArrayList<>();
    for (Envelope.Recipient r : envelope.recipients()) {
      if (r.state() != Envelope.Recipient.State.PENDING) {
        out.add(r);
      } else if (plan.unknown().contains(r.address())) {
        MainLog.write(id + " ** " + r.address() + ": Unrouteable address");
        out.add(r.withState(Envelope.Recipient.State.FAILED));
      } else if (plan.mailboxesByRecipient().containsKey(r.address())) {
        boolean all = true;
        for (String mailbox : plan.mailboxesByRecipient().get(r.address())) {
          String result = results.getString(mailbox, "deferred: no result");
          if (result.equals("delivered")) {
            MainLog.write(id + " => " + mailbox + " <" + r.address() + "> R=localuser T=maildir");
          } else {
            all = false;
            MainLog.write(id + " == " + mailbox + " <" + r.address() + "> R=localuser T=maildir " + result);
          }
        }
        out.add(all ? r.withState(Envelope.Recipient.State.DELIVERED) : r);
      } else {
        out.add(r);
      }
    }
    for (Envelope.Recipient added : plan.added()) {
      if (out.stream().noneMatch(r -> r.address().equalsIgnoreCase(added.address()))) {
        out.add(added);
      }
    }
    for (String remote : plan.remote()) {
      MainLog.write(id + " == " + remote + " R=none: remote delivery is not configured; message stays queued");
    }
    return envelope.withRecipients(out);
  }
}
