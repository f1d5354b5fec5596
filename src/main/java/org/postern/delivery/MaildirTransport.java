package org.postern.delivery;

import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.shareddata.LocalMap;
import org.postern.bus.DeliveryRequest;
import org.postern.bus.DeliveryResult;
import org.postern.bus.DeliveryStatus;
import org.postern.config.LocalUsers;
import org.postern.config.PosternConfig;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code maildir} transport's work for one request, blocking: each mailbox name in
 * {@link DeliveryRequest#recipients()} gets the message in {@code <maildir_directory>/<name>/},
 * answered as an SMTP server would: {@code 250 2.0.0} delivered, {@code 451 4.3.0} deferred (the
 * file system failed; the text says how), {@code 550 5.1.1} failed (a name that is no mailbox).
 *
 * <p>{@link MaildirDeliveryVerticle} serves it on the bus; the queue calls it directly, inside the
 * one worker task that also locks, routes and finishes the message, when the verticle is deployed in
 * this Vert.x ({@link #deployed(Vertx)}): the same transport, without the bus request and the two
 * worker hand-offs around it.
 */
public final class MaildirTransport {
  private static final String DEPLOYMENTS = "postern.delivery.maildir.deployments";

  private MaildirTransport() {
  }

  /**
   * The worker pool maildir deliveries run on, shared by the verticle and the queue's attempts
   * (one pool of one size, whichever asks first): as many deliveries as are in progress can wait
   * on the disk at once and share its group commits.
   */
  public static WorkerExecutor workers(Vertx vertx) {
    return vertx.createSharedWorkerExecutor("postern-delivery", 16);
  }

  /**
   * True while a {@link MaildirDeliveryVerticle} is deployed in {@code vertx}: only then may the
   * queue deliver into maildirs without asking the bus (a node without the transport defers).
   */
  public static boolean deployed(Vertx vertx) {
    return !deployments(vertx).isEmpty();
  }

  static void register(Vertx vertx, String deploymentId) {
    deployments(vertx).put(deploymentId, Boolean.TRUE);
  }

  static void unregister(Vertx vertx, String deploymentId) {
    deployments(vertx).remove(deploymentId);
  }

  private static LocalMap<String, Boolean> deployments(Vertx vertx) {
    return vertx.sharedData().getLocalMap(DEPLOYMENTS);
  }

  /** Delivers the request's message to each of its mailboxes in turn. Blocking: call it on a worker. */
  public static DeliveryResult deliver(PosternConfig c, DeliveryRequest request) {
    List<DeliveryResult.Recipient> results = new ArrayList<>(request.recipients().size());
    for (String name : request.recipients()) {
      results.add(deliver(c, request, name));
    }
    return new DeliveryResult(results, List.of());
  }

  /** Delivers the request's message to one mailbox. Blocking. */
  static DeliveryResult.Recipient deliver(PosternConfig c, DeliveryRequest request, String name) {
    return deliver(name, () -> MaildirWriter.deliver(c.maildirDirectory().resolve(name), c.primaryHostname(),
        request.id(), request.receivedAt() / 1000, request.sender(), Path.of(request.dataFile()), request.recovering()));
  }

  /**
   * Delivers a message held in memory, never spooled ({@code local_delivery_before_ack}), to one
   * mailbox: the file as a delivery from the spool would write it, fsynced and in {@code new/}
   * (synced) before this returns. Blocking.
   *
   * @param receivedAt the envelope's arrival time (milliseconds), which names the file
   */
  public static DeliveryResult.Recipient deliver(PosternConfig c, String id, long receivedAt, String sender,
                                                 ByteBuffer content, String name) {
    return deliver(name, () -> MaildirWriter.deliver(c.maildirDirectory().resolve(name), c.primaryHostname(), id,
        receivedAt / 1000, sender, content, false));
  }

  private interface Write {
    void run() throws Exception;
  }

  private static DeliveryResult.Recipient deliver(String name, Write write) {
    if (!name.matches(LocalUsers.MAILBOX_NAME) || name.startsWith(".")) {
      return DeliveryResult.Recipient.local(name, DeliveryStatus.FAILED, 550, "5.1.1", "invalid mailbox name");
    }
    try {
      write.run();
      return DeliveryResult.Recipient.local(name, DeliveryStatus.DELIVERED, 250, "2.0.0", "delivered");
    } catch (Exception e) {
      return DeliveryResult.Recipient.local(name, DeliveryStatus.DEFERRED, 451, "4.3.0", String.valueOf(e));
    }
  }
}
