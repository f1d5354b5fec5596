package org.postern.delivery;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.Message;
import org.postern.bus.Addresses;
import org.postern.bus.BusCodecs;
import org.postern.bus.DeliveryRequest;
import org.postern.bus.DeliveryResult;
import org.postern.bus.DeliveryStatus;
import org.postern.config.ConfigHolder;
import org.postern.config.PosternConfig;

import java.util.ArrayList;
import java.util.List;

/**
 * The {@code maildir} transport on {@code postern.deliver.maildir}: a {@link DeliveryRequest}
 * whose recipients are mailbox names, each {@code <maildir_directory>/<name>/}, answered as an SMTP
 * server would ({@link DeliveryResult}): {@code 250 2.0.0} delivered, {@code 451 4.3.0} deferred
 * (the file system failed; the text says how), {@code 550 5.1.1} failed (a name that is no mailbox).
 */
public final class MaildirDeliveryVerticle extends VerticleBase {
  public static final String ADDRESS = Addresses.DELIVER_PREFIX + "maildir";
  private ConfigHolder config;
  private WorkerExecutor workers;

  @Override
  public Future<?> start() {
    config = ConfigHolder.of(vertx);
    workers = MaildirTransport.workers(vertx);
    BusCodecs.register(vertx);
    return vertx.eventBus().<DeliveryRequest>localConsumer(ADDRESS, this::deliver).completion()
        .onSuccess(v -> MaildirTransport.register(vertx, deploymentID()));
  }

  @Override
  public Future<?> stop() {
    MaildirTransport.unregister(vertx, deploymentID());
    return Future.succeededFuture();
  }

  private void deliver(Message<DeliveryRequest> msg) {
    PosternConfig c = config.current();
    DeliveryRequest request = msg.body();
    // One worker task per mailbox: a message for many mailboxes is written into them in parallel.
    List<Future<DeliveryResult.Recipient>> attempts = new ArrayList<>();
    for (String name : request.recipients()) {
      attempts.add(workers.executeBlocking(() -> MaildirTransport.deliver(c, request, name), false)
          .recover(e -> Future.succeededFuture(
              DeliveryResult.Recipient.local(name, DeliveryStatus.DEFERRED, 451, "4.3.0", String.valueOf(e)))));
    }
    Future.join(attempts).onComplete(r ->
        msg.reply(new DeliveryResult(attempts.stream().map(Future::result).toList(), List.of())));
  }
}
