package org.postern.queue;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.Message;
import org.postern.bus.DeliveryResult;
import org.postern.bus.DeliveryStatus;
import org.postern.bus.LocalDeliveryReply;
import org.postern.bus.LocalDeliveryRequest;
import org.postern.bus.MessageEvent;
import org.postern.config.PosternConfig;
import org.postern.delivery.MaildirTransport;
import org.postern.log.MainLog;
import org.postern.spool.ContentView;
import org.postern.spool.Envelope;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code local_delivery_before_ack}: answers {@code postern.queue.deliver.local}. A message that
 * the listener still holds in memory, all of whose recipients route to the maildir transport, is
 * written into the maildirs from those bytes before the 250 after DATA, and never into the spool
 * (Haraka's queue plugins work this way; Exim and Postfix always spool first, so this is a documented
 * departure). The durability rule is unchanged: the reply says {@code DELIVERED} only once every
 * maildir file is fsynced, renamed into {@code new/} and {@code new/} synced, and only then is the
 * {@code <=} line written, followed by the {@code =>} lines and {@code Completed}, as for an
 * immediate delivery from the spool.
 *
 * <p>Eligibility is decided here and only here, by the side that knows the routers: anything a
 * queue attempt would do more than write maildirs (queue only, a freeze, an unknown or remote
 * recipient, an alias that adds recipients, a success DSN to spool, more mailboxes than an attempt
 * writes inline, no maildir transport in this process) answers {@code NOT_ELIGIBLE} and the message
 * takes the spool as before. A mailbox that cannot be written never turns into a refusal: what was
 * delivered is returned as delivered recipients of the envelope to commit ({@code PARTIAL}), the rest
 * stays pending for the queue; with nothing delivered, the answer is {@code NOT_ELIGIBLE}.
 */
final class DeliveryBeforeAck {
  private final Vertx vertx;
  private final WorkerExecutor workers;
  private final MessageEvents events;
  private final java.util.function.Supplier<PosternConfig> config;

  DeliveryBeforeAck(Vertx vertx, WorkerExecutor workers, MessageEvents events,
                    java.util.function.Supplier<PosternConfig> config) {
    this.vertx = vertx;
    this.workers = workers;
    this.events = events;
    this.config = config;
  }

  void handle(Message<LocalDeliveryRequest> msg) {
    PosternConfig c = config.get();
    LocalDeliveryRequest request = msg.body();
    if (!eligible(c, request)) {
      msg.reply(LocalDeliveryReply.NOT_ELIGIBLE_REPLY);
      return;
    }
    // Routing grows with the recipients (a message may have 50,000): on the worker, with the writes.
    workers.executeBlocking(() -> {
      LocalRouting.Plan plan = plan(c, request.envelope());
      return plan == null ? LocalDeliveryReply.NOT_ELIGIBLE_REPLY : deliver(c, request, plan);
    }, false)
        // Whatever broke, the spool takes the message; a maildir file already written is found again
        // by the queue's delivery (its name comes from the message id), so none is written twice.
        .recover(e -> Future.succeededFuture(LocalDeliveryReply.NOT_ELIGIBLE_REPLY))
        .onComplete(r -> msg.reply(r.result()));
  }

  /** The message-wide conditions: everything but the routing of its recipients. */
  private boolean eligible(PosternConfig c, LocalDeliveryRequest request) {
    Envelope e = request.envelope();
    return c.delivery().localDeliveryBeforeAck() && !c.queueOnly() && !request.queueOnly() && !e.frozen()
        && c.delivery().routesLocal() && MaildirTransport.deployed(vertx);
  }

  /**
   * The routing plan when every recipient goes to one or more local mailboxes and nowhere else,
   * and nobody asked for a success DSN (which would have to be spooled); else null.
   */
  private static LocalRouting.Plan plan(PosternConfig c, Envelope e) {
    for (Envelope.Recipient r : e.recipients()) {
      if (r.state() != Envelope.Recipient.State.PENDING || !c.localDomains().matches(r.domain())
          || (BouncePolicy.shouldBounce(e) && r.notifies("SUCCESS"))) {
        return null;
      }
    }
    LocalRouting.Plan plan = LocalRouting.plan(e.recipients(), c);
    if (!plan.unknown().isEmpty() || !plan.added().isEmpty()
        || plan.mailboxesByRecipient().values().stream().anyMatch(Set::isEmpty)
        || plan.allMailboxes().size() > QueueVerticle.INLINE_MAILBOXES) {
      return null;
    }
    return plan;
  }

  /** Writes the mailboxes one after the other, then logs or hands back what happened. Blocking. */
  private LocalDeliveryReply deliver(PosternConfig c, LocalDeliveryRequest request, LocalRouting.Plan plan) {
    Envelope e = request.envelope();
    String id = e.id();
    ByteBuffer content = ContentView.of(request.content());
    Map<String, DeliveryResult.Recipient> results = new HashMap<>();
    for (String mailbox : plan.allMailboxes()) {
      results.put(mailbox, MaildirTransport.deliver(c, id, e.receivedAt(), e.sender(), content, mailbox));
    }
    String router = LocalRouting.routerName(c);
    // Each mailbox written, with the first recipient that led to it: one line each (as QueueVerticle.record).
    Map<String, String> written = new LinkedHashMap<>();
    Set<String> doneRecipients = new LinkedHashSet<>();
    for (Envelope.Recipient r : e.recipients()) {
      Set<String> mailboxes = plan.mailboxesByRecipient().get(r.address());
      if (mailboxes == null) {
        continue;
      }
      boolean all = true;
      for (String mailbox : mailboxes) {
        boolean ok = results.get(mailbox).status() == DeliveryStatus.DELIVERED;
        all &= ok;
        if (ok) {
          written.putIfAbsent(mailbox, r.address());
        }
      }
      if (all) {
        doneRecipients.add(MessageAttempt.unique(r.address()));
      }
    }
    if (doneRecipients.isEmpty()) {
      // Nothing written that a later attempt would not find again: the ordinary path, as if never asked.
      return LocalDeliveryReply.NOT_ELIGIBLE_REPLY;
    }
    boolean complete = e.recipients().stream().allMatch(r -> doneRecipients.contains(MessageAttempt.unique(r.address())));
    if (complete) {
      MainLog.write(request.arrivalLog());
      events.message(MessageEvent.Kind.ACCEPTED, id);
    }
    List<String> lines = new ArrayList<>(written.size());
    for (Map.Entry<String, String> w : written.entrySet()) {
      String line = LocalRouting.deliveredLine(id, w.getKey(), w.getValue(), router);
      lines.add(line);
      if (complete) {
        MainLog.write(line);
      }
      // PARTIAL: the events now, as the files are there; the lines wait for the spool commit and the <= line.
      DeliveryResult.Recipient result = results.get(w.getKey());
      events.recipient(MessageEvent.Kind.DELIVERED, id, w.getValue(), router, LocalRouting.TRANSPORT, null,
          result.code(), result.text());
    }
    if (complete) {
      MainLog.write(id + " Completed");
      events.message(MessageEvent.Kind.COMPLETED, id);
      return LocalDeliveryReply.DELIVERED_REPLY;
    }
    List<Envelope.Recipient> states = new ArrayList<>(e.recipients().size());
    for (Envelope.Recipient r : e.recipients()) {
      states.add(doneRecipients.contains(MessageAttempt.unique(r.address()))
          ? r.withState(Envelope.Recipient.State.DELIVERED) : r);
    }
    return new LocalDeliveryReply(LocalDeliveryReply.Outcome.PARTIAL, e.withRecipients(states), lines);
  }
}
