package org.postern.bus;

import io.vertx.core.json.JsonObject;

/**
 * A remote SMTP server as a router found it: what {@code postern.deliver.<transport>} is asked to
 * try, and which host gave a result. JSON form {@code {name?, address, port}}.
 *
 * @param name    host name (matched against host lists and certificate names), or null when only the address is known
 * @param address IP address connected to
 * @param port    TCP port
 */
public record RemoteHost(String name, String address, int port) {
  /** The host's name, or its address when it has none (a host given as an IP address, as Exim names it). */
  public String nameOrAddress() {
    return name == null ? address : name;
  }

  /** {@code H=name [address]} as Exim logs it. */
  @Override
  public String toString() {
    return (name == null ? "" : name + " ") + "[" + address + "]" + (port == 25 ? "" : ":" + port);
  }

  public JsonObject toJson() {
    return new JsonObject().put("name", name).put("address", address).put("port", port);
  }

  /** The host of {@code j}; port 25 when it has none. */
  public static RemoteHost fromJson(JsonObject j) {
    return new RemoteHost(j.getString("name"), j.getString("address"), j.getInteger("port", 25));
  }
}
