package org.postern.admin;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import org.postern.bus.Ack;
import org.postern.bus.Addresses;
import org.postern.bus.InstanceDirectory;
import org.postern.bus.SessionAddresses;
import org.postern.bus.SessionList;
import org.postern.bus.SessionSummary;

import java.util.List;

/**
 * {@code GET /sessions}: every session instance of this node ({@link InstanceDirectory}) asked for
 * its live sessions on {@code postern.session.list.n}; {@code {count, sessions: [...]}}, each with
 * its client, listener, state, TLS cipher, authenticated id, start and age. An instance that does
 * not answer in time is left out and counted in {@code unanswered}.
 */
final class SessionsApi {
  private static final long TIMEOUT_MS = 5_000;

  private final Vertx vertx;

  SessionsApi(Vertx vertx) {
    this.vertx = vertx;
  }

  void handle(RoutingContext ctx) {
    List<SessionAddresses> instances = InstanceDirectory.<SessionAddresses>of(vertx, Addresses.SESSION).all();
    DeliveryOptions options = new DeliveryOptions().setLocalOnly(true).setSendTimeout(TIMEOUT_MS);
    List<Future<SessionList>> asked = instances.stream()
        .map(i -> vertx.eventBus().<SessionList>request(i.list(), Ack.INSTANCE, options).map(m -> m.body()))
        .toList();
    Future.join(asked).onComplete(done -> {
      long now = System.currentTimeMillis();
      JsonArray sessions = new JsonArray();
      int unanswered = 0;
      for (Future<SessionList> f : asked) {
        if (f.failed()) {
          unanswered++;
          continue;
        }
        for (SessionSummary s : f.result().sessions()) {
          sessions.add(s.toJson().put("age_seconds", Math.max(0, (now - s.startedAt()) / 1000)));
        }
      }
      AdminJson.ok(ctx, new JsonObject().put("count", sessions.size()).put("sessions", sessions)
          .put("unanswered", unanswered));
    });
  }
}
