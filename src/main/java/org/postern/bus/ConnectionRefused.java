package org.postern.bus;

import io.vertx.core.json.JsonObject;

/**
 * Published (node-local) on {@code postern.event.connection.refused} when a connection is refused
 * by a limit before any SMTP is spoken (the {@code Connection from [..] refused} log line, written or
 * held back by {@code connection_error_log_rate}). JSON {@code {limit}}: the option whose limit was
 * reached, {@code smtp_accept_max}, {@code smtp_accept_max_per_host} or {@code tls_handshake_max}.
 * No client address: an observer counting refusals needs none, and a metric must not carry one.
 *
 * @param limit the option name of the limit
 */
public record ConnectionRefused(String limit) implements BusRecord {
  @Override
  public JsonObject toJson() {
    return new JsonObject().put("limit", limit);
  }

  public static ConnectionRefused fromJson(JsonObject j) {
    return new ConnectionRefused(j.getString("limit"));
  }
}
