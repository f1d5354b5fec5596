package org.postern.delivery;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.postern.bus.Addresses;
import org.postern.config.ConfigHolder;
import org.postern.config.PosternConfig;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code maildir} transport on {@code postern.deliver.maildir}. Request:
 * {@code {id, data_file, sender, received_at, recovering, mailboxes: [name, ...]}}; reply: {@code {results: {name: "delivered" |
 * "deferred: reason"}}}. Each mailbox is {@code <maildir_directory>/<name>/}.
 */
public final class MaildirDeliveryVerticle extends VerticleBase {
  public static final String ADDRESS = Addresses.DELIVER_PREFIX + "maildir";
  private ConfigHolder config;
  private WorkerExecutor workers;

  @Override
  public Future<?> start() {
    config = ConfigHolder.of(vertx);
    workers = vertx.createSharedWorkerExecutor("postern-delivery", 16);
    return vertx.eventBus().<JsonObject>localConsumer(ADDRESS, this::deliver).completion();
  }

  private void deliver(Message<JsonObject> msg) {
    PosternConfig c = config.current();
    JsonObject body = msg.body();
    Path data = Path.of(body.getString("data_file"));
    String sender = body.getString("sender", "");
    String id = body.getString("id");
    long received = body.getLong("received_at", System.currentTimeMillis()) / 1000;
    boolean recovering = body.getBoolean("recovering", false);
    JsonArray mailboxes = body.getJsonArray("mailboxes", new JsonArray());
    List<Future<JsonObject>> attempts = new ArrayList<>();
    for (int i = 0; i < mailboxes.size(); i++) {
      String name = mailboxes.getString(i);
      attempts.add(workers.executeBlocking(() -> {
        if (!name.matches("[a-z0-9._+=-]+") || name.startsWith(".")) {
          return new JsonObject().put(name, "failed: invalid mailbox name");
        }
        MaildirWriter.deliver(c.maildirDirectory().resolve(name), c.primaryHostname(), id, received, sender, data,
            recovering);
        return new JsonObject().put(name, "delivered");
      }, false).recover(e -> Future.succeededFuture(new JsonObject().put(name, "deferred: " + e))));
    }
    Future.join(attempts).onComplete(r -> {
      JsonObject results = new JsonObject();
      attempts.forEach(f -> results.mergeIn(f.result()));
      msg.reply(new JsonObject().put("results", results));
    });
  }
}
