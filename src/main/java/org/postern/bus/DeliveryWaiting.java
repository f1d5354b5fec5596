package org.postern.bus;

import io.vertx.core.json.JsonObject;

/**
 * Published (node-local) on {@code postern.event.delivery.waiting}: a remote delivery has to wait
 * for a {@code remote_max_parallel} permit, because that many deliveries are running already. It
 * starts when one of them ends. JSON {@code {id, transport, remote_max_parallel}}.
 *
 * @param id                the spool id of the message
 * @param transport         the transport it waits to use
 * @param remoteMaxParallel the limit in force
 */
public record DeliveryWaiting(String id, String transport, int remoteMaxParallel) implements BusRecord {
  @Override
  public JsonObject toJson() {
    return new JsonObject().put("id", id).put("transport", transport).put("remote_max_parallel", remoteMaxParallel);
  }

  public static DeliveryWaiting fromJson(JsonObject j) {
    return new DeliveryWaiting(j.getString("id"), j.getString("transport"), j.getInteger("remote_max_parallel", 0));
  }
}
