package org.postern.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * The live sessions of one session instance, its reply to {@code postern.session.list.n} (request
 * {@link Ack}, {@code {}}): the admin API asks every instance of the {@link InstanceDirectory} of
 * {@link Addresses#SESSION} and joins the answers. JSON {@code {sessions: [...]}}.
 */
public record SessionList(List<SessionSummary> sessions) implements BusRecord {
  public SessionList {
    sessions = List.copyOf(sessions);
  }

  @Override
  public JsonObject toJson() {
    return new JsonObject().put("sessions", new JsonArray(sessions.stream().map(SessionSummary::toJson).toList()));
  }

  public static SessionList fromJson(JsonObject j) {
    return new SessionList(j.getJsonArray("sessions", new JsonArray()).stream()
        .map(o -> SessionSummary.fromJson((JsonObject) o)).toList());
  }
}
