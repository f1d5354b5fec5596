package org.postern.bus;

import io.vertx.core.json.JsonObject;

/**
 * {@code postern.session.open} request: a new connection's facts. The reply is a
 * {@link SessionResponse} with the greeting (after the connect ACL) or the refusal.
 *
 * @param id                connection id, unique on the node; every later message of the session carries it
 * @param remoteAddress     client IP, "" for local submission ({@code -bs}, {@code -bS})
 * @param listener          the listener's name in {@code postern.yaml} ({@code stdio}, {@code bsmtp} locally)
 * @param local             {@code -bs}/{@code -bS}: no TCP peer
 * @param batch             batched SMTP ({@code -bS})
 * @param hostCheck         {@code -bh}: decisions traced, nothing kept
 * @param remoteName        the client's host name where known ({@code -bh -oMs}), else null
 * @param startTlsAvailable the listener can upgrade this connection
 * @param tls               TLS facts ({@code tls_cipher}, {@code tls_peerdn}, ...) of an implicit-TLS
 *                          connection, else null; copied, so the sender's object stays its own
 * @param proxy             the load balancer the connection came through ({@code hosts_proxy}), else null;
 *                          {@code remoteAddress} and {@code remotePort} are then the client's from its header
 */
public record SessionOpen(String id, String remoteAddress, int remotePort, String localAddress, int localPort,
                          String listener, boolean local, boolean batch, boolean hostCheck, String remoteName,
                          boolean startTlsAvailable, JsonObject tls, ProxySession proxy) {

  public SessionOpen {
    tls = tls == null ? null : tls.copy();
  }

  /** A TCP connection accepted by a listener. */
  public static SessionOpen network(String id, String remoteAddress, int remotePort, String localAddress,
                                   int localPort, String listener, boolean startTlsAvailable, JsonObject tls) {
    return new SessionOpen(id, remoteAddress, remotePort, localAddress, localPort, listener, false, false, false,
        null, startTlsAvailable, tls, null);
  }

  /** A session on standard input and output ({@code -bs}, or {@code -bS} when {@code batch}). */
  public static SessionOpen local(String id, boolean batch) {
    return new SessionOpen(id, "", 0, "", 0, batch ? "bsmtp" : "stdio", true, batch, false, null, false, null, null);
  }

  /** Exim's {@code -bh}: a session as if from {@code remoteAddress}, traced, keeping nothing. */
  public static SessionOpen hostCheck(String id, String remoteAddress, int remotePort, String localAddress,
                                      int localPort, String remoteName) {
    return new SessionOpen(id, remoteAddress, remotePort, localAddress, localPort, "smtp", false, false, true,
        remoteName, false, null, null);
  }

  /** These facts, for a connection that came through {@code proxy}. */
  public SessionOpen withProxy(ProxySession proxy) {
    return new SessionOpen(id, remoteAddress, remotePort, localAddress, localPort, listener, local, batch, hostCheck,
        remoteName, startTlsAvailable, tls, proxy);
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("id", id).put("remote_address", remoteAddress)
        .put("remote_port", remotePort).put("local_address", localAddress).put("local_port", localPort)
        .put("listener", listener).put("local", local).put("batch", batch).put("host_check", hostCheck)
        .put("starttls_available", startTlsAvailable);
    if (remoteName != null) {
      json.put("remote_name", remoteName);
    }
    if (tls != null) {
      json.put("tls", tls);
    }
    if (proxy != null) {
      json.put("proxy", proxy.toJson());
    }
    return json;
  }

  public static SessionOpen fromJson(JsonObject json) {
    return new SessionOpen(json.getString("id"), json.getString("remote_address", ""),
        json.getInteger("remote_port", 0), json.getString("local_address", ""), json.getInteger("local_port", 0),
        json.getString("listener", "local"), json.getBoolean("local", false), json.getBoolean("batch", false),
        json.getBoolean("host_check", false), json.getString("remote_name"),
        json.getBoolean("starttls_available", false), json.getJsonObject("tls"),
        json.containsKey("proxy") ? ProxySession.fromJson(json.getJsonObject("proxy")) : null);
  }
}
