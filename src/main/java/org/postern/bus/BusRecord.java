package org.postern.bus;

import io.vertx.core.json.JsonObject;

/**
 * The body of one event-bus message (a request or a reply). Its JSON form is the contract that
 * plugins and other cluster nodes see ({@code docs/plugins.md}); every implementing record also has
 * {@code public static T fromJson(JsonObject)}, the inverse of {@link #toJson()}, which
 * {@link BusCodecs} uses when a message crosses the wire.
 */
public interface BusRecord {
  /** This message as JSON. */
  JsonObject toJson();
}
