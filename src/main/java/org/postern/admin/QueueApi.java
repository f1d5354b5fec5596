package org.postern.admin;

import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import org.postern.bus.Addresses;
import org.postern.bus.QueueFlushReply;
import org.postern.bus.QueueFlushRequest;
import org.postern.config.ConfigHolder;
import org.postern.config.PosternConfig;
import org.postern.log.MainLog;
import org.postern.queue.MessageActions;
import org.postern.queue.MessageViews;
import org.postern.queue.QueueListing;
import org.postern.spool.Envelope;
import org.postern.spool.MessageIds;
import org.postern.spool.Spool;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The queue part of the admin API. Reads and actions go through the command line's own code
 * ({@link QueueListing#read}, {@link MessageViews}, {@link MessageActions}), on worker threads, so
 * each action takes the message's lock and writes the main-log line that {@code -Mf}, {@code -Mt},
 * {@code -Mrm} and {@code -Mg} write; {@code deliver} and {@code flush} ask the queue on
 * {@link Addresses#QUEUE_FLUSH}, as {@code -M} and {@code -R} do.
 * <ul>
 * <li>{@code GET /queue}: {@code {total, frozen, matched, offset, limit, messages: [...]}}, filtered
 *     and paged by {@link QueueQuery};
 * <li>{@code GET /queue/{id}}: the envelope, its header section and its main-log lines;
 * <li>{@code POST /queue/{id}/freeze|thaw|remove|giveup}: {@code {id, action, outcome, message}};
 *     404 for an unknown message, 409 when it is locked or already in that state;
 * <li>{@code POST /queue/{id}/deliver}: delivers it now, thawed if frozen (202 {@code {started}});
 * <li>{@code POST /queue/flush?domain=}: a queue run, of one domain's messages when given (as
 *     {@code -R}, retry times ignored), else as {@code -q}.
 * </ul>
 */
final class QueueApi {
  private static final Map<String, MessageActions.Action> ACTIONS = Map.of("freeze", MessageActions.Action.FREEZE,
      "thaw", MessageActions.Action.THAW, "remove", MessageActions.Action.REMOVE,
      "giveup", MessageActions.Action.GIVE_UP);
  private static final long FLUSH_TIMEOUT_MS = 10_000;

  private final Vertx vertx;
  private final ConfigHolder config;

  QueueApi(Vertx vertx, ConfigHolder config) {
    this.vertx = vertx;
    this.config = config;
  }

  void mount(Router router) {
    router.get("/queue").handler(this::list);
    router.post("/queue/flush").handler(this::flush);
    router.get("/queue/:id").handler(this::show);
    router.post("/queue/:id/deliver").handler(this::deliver);
    router.post("/queue/:id/:action").handler(this::act);
  }

  private Spool spool() {
    return new Spool(config.current().spoolDirectory());
  }

  private void list(RoutingContext ctx) {
    QueueQuery query;
    try {
      query = QueueQuery.of(ctx.queryParams());
    } catch (IllegalArgumentException e) {
      AdminJson.error(ctx, 400, e.getMessage());
      return;
    }
    Spool spool = spool();
    vertx.executeBlocking(() -> QueueListing.read(spool), false).onComplete(read -> {
      if (read.failed()) {
        AdminJson.error(ctx, 500, "cannot read the spool: " + read.cause().getMessage());
        return;
      }
      Instant now = Instant.now();
      List<Envelope> all = read.result();
      List<Envelope> matching = all.stream().filter(query.filter(now)).toList();
      AdminJson.ok(ctx, new JsonObject().put("total", all.size())
          .put("frozen", all.stream().filter(Envelope::frozen).count())
          .put("matched", matching.size()).put("offset", query.offset()).put("limit", query.limit())
          .put("messages", new JsonArray(query.page(matching).stream().map(e -> summary(e, now)).toList())));
    });
  }

  private static JsonObject summary(Envelope e, Instant now) {
    return new JsonObject().put("id", e.id()).put("sender", e.sender()).put("size", e.size())
        .put("received_at", e.receivedAt()).put("age_seconds", Math.max(0, now.getEpochSecond() - e.receivedAt() / 1000))
        .put("frozen", e.frozen())
        .put("recipients", new JsonArray(e.recipients().stream()
            .map(r -> new JsonObject().put("address", r.address()).put("state", r.state().name().toLowerCase()))
            .toList()));
  }

  private void show(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    if (!MessageIds.isValid(id)) {
      AdminJson.error(ctx, 404, "message " + id + ": no such message");
      return;
    }
    Spool spool = spool();
    vertx.executeBlocking(() -> {
      if (!spool.exists(id)) {
        return null;
      }
      Envelope envelope = spool.readEnvelope(id);
      String headers = view(spool, MessageViews.View.HEADERS, id);
      String log = view(spool, MessageViews.View.LOG, id);
      return headers == null ? null : new JsonObject().put("envelope", envelope.toJson()).put("headers", headers)
          .put("log", new JsonArray(log == null ? List.of() : log.lines().toList()));
    }, false).onComplete(r -> {
      if (r.failed() || r.result() == null) {
        // A spool file that went between the check and the read: removed or delivered meanwhile.
        AdminJson.error(ctx, 404, "message " + id + ": no such message");
      } else {
        AdminJson.ok(ctx, r.result());
      }
    });
  }

  /** What {@code -Mvh} or {@code -Mvl} would print, or null when the message went meanwhile. */
  private static String view(Spool spool, MessageViews.View view, String id) throws java.io.IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrintStream discard = new PrintStream(java.io.OutputStream.nullOutputStream());
    try (PrintStream print = new PrintStream(out, false, StandardCharsets.UTF_8)) {
      int status = new MessageViews(spool, MainLog.file(), print, discard).show(view, List.of(id));
      return status == 0 ? out.toString(StandardCharsets.UTF_8) : null;
    }
  }

  private void act(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    MessageActions.Action action = ACTIONS.get(ctx.pathParam("action"));
    if (action == null) {
      AdminJson.error(ctx, 404, "no such action: " + ctx.pathParam("action"));
      return;
    }
    if (!MessageIds.isValid(id)) {
      AdminJson.error(ctx, 404, MessageActions.report(action, MessageActions.Outcome.NO_SUCH_MESSAGE, id));
      return;
    }
    PosternConfig c = config.current();
    MessageActions actions = MessageActions.asProcessUser(new Spool(c.spoolDirectory()), c.primaryHostname());
    vertx.executeBlocking(() -> actions.apply(action, id), false).onComplete(r -> {
      if (r.failed()) {
        AdminJson.error(ctx, 500, "message " + id + ": " + r.cause().getMessage());
        return;
      }
      MessageActions.Outcome outcome = r.result();
      int status = switch (outcome) {
        case DONE -> 200;
        case NO_SUCH_MESSAGE -> 404;
        case LOCKED, ALREADY_FROZEN, NOT_FROZEN -> 409;
      };
      AdminJson.reply(ctx, status, new JsonObject().put("id", id).put("action", ctx.pathParam("action"))
          .put("outcome", outcome.name().toLowerCase()).put("message", MessageActions.report(action, outcome, id)));
    });
  }

  private void deliver(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    Spool spool = spool();
    vertx.executeBlocking(() -> MessageIds.isValid(id) && spool.exists(id), false).onComplete(exists -> {
      if (exists.failed() || !exists.result()) {
        AdminJson.error(ctx, 404, "message " + id + ": no such message");
        return;
      }
      runQueue(ctx, QueueFlushRequest.deliver(List.of(id), false));
    });
  }

  private void flush(RoutingContext ctx) {
    String domain = ctx.queryParams().get("domain");
    boolean oneDomain = domain != null && !domain.isBlank();
    runQueue(ctx, new QueueFlushRequest(domain, false, oneDomain, List.of(), false, false));
  }

  private void runQueue(RoutingContext ctx, QueueFlushRequest request) {
    vertx.eventBus().<JsonObject>request(Addresses.QUEUE_FLUSH, request.toJson(),
            new DeliveryOptions().setLocalOnly(true).setSendTimeout(FLUSH_TIMEOUT_MS))
        .onSuccess(reply -> AdminJson.reply(ctx, 202,
            new JsonObject().put("started", QueueFlushReply.fromJson(reply.body()).started())))
        .onFailure(e -> AdminJson.error(ctx, 503, "the queue did not answer: " + e.getMessage()));
  }
}
