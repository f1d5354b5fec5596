package org.postern.admin;

import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** The admin API's replies: JSON bodies, errors as {@code {error}} with the HTTP status. */
final class AdminJson {
  private AdminJson() {
  }

  static void reply(RoutingContext ctx, int status, JsonObject body) {
    ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json")
        .putHeader("Cache-Control", "no-store").end(body.encode());
  }

  static void ok(RoutingContext ctx, JsonObject body) {
    reply(ctx, 200, body);
  }

  static void error(RoutingContext ctx, int status, String message) {
    reply(ctx, status, new JsonObject().put("error", message));
  }
}
