package org.postern.bus;

import io.vertx.core.json.JsonObject;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The RFC 3461 parameters a remote transport passes on to a next hop that offers DSN: the
 * message's {@code RET=} and {@code ENVID=}, and each recipient's {@code NOTIFY=} and {@code ORCPT=},
 * all decoded (the transport xtext-encodes them again). JSON form in {@code docs/plugins.md}.
 *
 * @param ret    {@code FULL}, {@code HDRS}, or null
 * @param envid  the envelope id, or null
 * @param notifyEvents per recipient address that has one, its NOTIFY list ({@code SUCCESS,DELAY}, {@code NEVER})
 * @param orcpt  per recipient address that has one, its ORCPT ({@code rfc822;bob@example.net})
 */
public record DeliveryDsn(String ret, String envid, Map<String, String> notifyEvents, Map<String, String> orcpt) {
  /** No DSN parameters at all. */
  public static final DeliveryDsn NONE = new DeliveryDsn(null, null, Map.of(), Map.of());

  public DeliveryDsn {
    notifyEvents = Map.copyOf(notifyEvents);
    orcpt = Map.copyOf(orcpt);
  }

  public boolean isEmpty() {
    return ret == null && envid == null && notifyEvents.isEmpty() && orcpt.isEmpty();
  }

  JsonObject toJson() {
    JsonObject j = new JsonObject().put("notify", new JsonObject(new LinkedHashMap<>(notifyEvents)))
        .put("orcpt", new JsonObject(new LinkedHashMap<>(orcpt)));
    if (ret != null) {
      j.put("ret", ret);
    }
    if (envid != null) {
      j.put("envid", envid);
    }
    return j;
  }

  static DeliveryDsn fromJson(JsonObject j) {
    if (j == null) {
      return NONE;
    }
    return new DeliveryDsn(j.getString("ret"), j.getString("envid"), strings(j.getJsonObject("notify")),
        strings(j.getJsonObject("orcpt")));
  }

  private static Map<String, String> strings(JsonObject j) {
    Map<String, String> out = new LinkedHashMap<>();
    if (j != null) {
      j.forEach(e -> out.put(e.getKey(), String.valueOf(e.getValue())));
    }
    return out;
  }
}
