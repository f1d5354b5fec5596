package org.postern.bus;

import io.vertx.core.json.JsonObject;

/**
 * A connection that came through a load balancer in {@code hosts_proxy} and began with a PROXY
 * protocol header, as Exim's {@code $proxy_*} variables describe it. The client's own address is the
 * session's remote address; these are the proxy's two sides. A header that names no client (v2
 * {@code LOCAL}, v1 {@code UNKNOWN}) leaves the addresses empty and the ports 0, as in Exim. Part of
 * {@link SessionOpen}; JSON form {@code {local_address, local_port, external_address, external_port}}.
 *
 * @param localAddress    {@code $proxy_local_address}: the proxy's address as Postern sees it (the TCP peer)
 * @param localPort       {@code $proxy_local_port}: the proxy's source port
 * @param externalAddress {@code $proxy_external_address}: the proxy's address the client connected to
 * @param externalPort    {@code $proxy_external_port}: the proxy's port the client connected to
 */
public record ProxySession(String localAddress, int localPort, String externalAddress, int externalPort) {

  /** A PROXY header that named no client: only {@code $proxy_session} says the proxy was there. */
  public static final ProxySession ANONYMOUS = new ProxySession("", 0, "", 0);

  public JsonObject toJson() {
    return new JsonObject().put("local_address", localAddress).put("local_port", localPort)
        .put("external_address", externalAddress).put("external_port", externalPort);
  }

  public static ProxySession fromJson(JsonObject json) {
    return new ProxySession(json.getString("local_address", ""), json.getInteger("local_port", 0),
        json.getString("external_address", ""), json.getInteger("external_port", 0));
  }
}
