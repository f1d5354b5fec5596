package org.postern.delivery;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import org.postern.bus.Addresses;
import org.postern.config.ConfigHolder;
import org.postern.config.PosternConfig;
import org.postern.delivery.smtp.ClientTls;
import org.postern.delivery.smtp.HostDeferral;
import org.postern.delivery.smtp.MessageResult;
import org.postern.delivery.smtp.OutboundMessage;
import org.postern.delivery.smtp.RecipientResult;
import org.postern.delivery.smtp.RemoteHost;
import org.postern.delivery.smtp.SmtpClientConnection;
import org.postern.config.SmtpTransportOptions;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code smtp} transport on {@code postern.deliver.smtp}. Request:
 * <pre>{id, transport, data_file, sender, size, eight_bit, recipients: [address, ...],
 *  hosts: [{name, address, port}, ...]}</pre>
 * The hosts are tried in order; the next one is tried only for recipients deferred by a problem of
 * the host (connection refused, timeout, lost connection), as Exim does. Reply:
 * <pre>{results: [{address, status: delivered|deferred|failed, code, enhanced, text}],
 *   host: {name, address, port}, tls: "X=... CV=... DN=...", authenticator}],
 *  host_problems: [{name, address, port, reason}]}</pre>
 * where {@code host} is the host that gave the result (absent when no host answered), {@code tls}
 * is absent for a delivery in clear and {@code authenticator} when none was used.
 * An open connection is kept for a few seconds for the next message to the same host through the
 * same transport. One {@link NetClient} per verticle instance and {@code interface} address.
 */
public final class SmtpDeliveryVerticle extends VerticleBase {
  public static final String ADDRESS = Addresses.DELIVER_PREFIX + "smtp";
  /** How long an idle connection waits for another message. */
  static final long IDLE_MILLIS = 3000;

  private ConfigHolder config;
  /** By {@code interface} address; "" for none (the system picks the source address). */
  private final Map<String, NetClient> clients = new HashMap<>();
  private IdleConnections pool;
  private final Map<String, Future<ClientTls>> tlsByTransport = new HashMap<>();
  private String tlsGeneration;

  @Override
  public Future<?> start() {
    config = ConfigHolder.of(vertx);
    pool = new IdleConnections(vertx, IDLE_MILLIS);
    return vertx.eventBus().<JsonObject>localConsumer(ADDRESS, this::deliver).completion();
  }

  @Override
  public Future<?> stop() {
    pool.closeAll();
    return Future.join(clients.values().stream().map(NetClient::close).toList());
  }

  private void deliver(Message<JsonObject> msg) {
    JsonObject body = msg.body();
    PosternConfig c = config.current();
    String transportName = body.getString("transport");
    SmtpTransportOptions options = c.delivery().transports().get(transportName);
    List<String> recipients = body.getJsonArray("recipients", new JsonArray()).stream().map(String::valueOf).toList();
    if (options == null || recipients.isEmpty()) {
      msg.fail(400, options == null ? "no smtp transport named " + transportName : "no recipients");
      return;
    }
    List<RemoteHost> hosts = new ArrayList<>();
    JsonArray hostArray = body.getJsonArray("hosts", new JsonArray());
    for (int i = 0; i < hostArray.size(); i++) {
      JsonObject h = hostArray.getJsonObject(i);
      hosts.add(new RemoteHost(h.getString("name"), h.getString("address"), h.getInteger("port", options.port())));
    }
    OutboundMessage message = new OutboundMessage(body.getString("sender", ""), recipients,
        Path.of(body.getString("data_file")), body.getLong("size", 0L), body.getBoolean("eight_bit", false));
    Attempt attempt = new Attempt(c.generation() + "|" + transportName, options, message);
    tls(c.generation(), transportName, options)
        .compose(tls -> tryHosts(attempt, tls, hosts, 0, true))
        .onFailure(e -> hosts.forEach(h -> attempt.hostProblem(h, e.getMessage())))
        .onComplete(ar -> msg.reply(attempt.reply()));
  }

  /** What one request has learnt so far. */
  private static final class Attempt {
    final String poolKey;
    final SmtpTransportOptions options;
    final OutboundMessage message;
    final Map<String, RecipientResult> results = new LinkedHashMap<>();
    /** The host and TLS facts each result came from. */
    final Map<String, JsonObject> facts = new HashMap<>();
    final JsonArray hostProblems = new JsonArray();

    Attempt(String poolKey, SmtpTransportOptions options, OutboundMessage message) {
      this.poolKey = poolKey;
      this.options = options;
      this.message = message;
    }

    List<String> open() {
      return message.recipients().stream().filter(r -> !results.containsKey(r)
          || results.get(r).status() == RecipientResult.Status.DEFERRED && results.get(r).code() == 0).toList();
    }

    void hostProblem(RemoteHost host, String reason) {
      hostProblems.add(new JsonObject().put("name", host.name()).put("address", host.address())
          .put("port", host.port()).put("reason", reason));
    }

    JsonObject reply() {
      JsonArray out = new JsonArray();
      for (String r : message.recipients()) {
        RecipientResult rr = results.get(r);
        if (rr == null) {
          String reason = hostProblems.isEmpty() ? "no host to deliver to"
              : hostProblems.getJsonObject(hostProblems.size() - 1).getString("reason");
          rr = new RecipientResult(r, RecipientResult.Status.DEFERRED, 0, null, reason);
        }
        JsonObject item = new JsonObject().put("address", r)
            .put("status", rr.status().name().toLowerCase(java.util.Locale.ROOT))
            .put("code", rr.code()).put("enhanced", rr.enhanced()).put("text", rr.text());
        if (facts.containsKey(r)) {
          item.mergeIn(facts.get(r));
        }
        out.add(item);
      }
      return new JsonObject().put("results", out).put("host_problems", hostProblems);
    }

    void answered(RemoteHost host, MessageResult result) {
      JsonObject f = new JsonObject().put("host", new JsonObject().put("name", host.name())
          .put("address", host.address()).put("port", host.port()));
      if (result.tls() != null) {
        f.put("tls", result.tls().logText());
      }
      if (result.authenticator() != null) {
        f.put("authenticator", result.authenticator());
      }
      result.recipients().forEach(r -> {
        results.put(r.address(), r);
        facts.put(r.address(), f);
      });
    }
  }

  /**
   * @param mayReuse an idle connection may be used; false after an idle connection turned out to
   *                 have been closed by the server meanwhile, which says nothing about the host
   */
  private Future<Void> tryHosts(Attempt attempt, ClientTls tls, List<RemoteHost> hosts, int index, boolean mayReuse) {
    List<String> open = attempt.open();
    if (index >= hosts.size() || open.isEmpty()) {
      return Future.succeededFuture();
    }
    RemoteHost host = hosts.get(index);
    String key = attempt.poolKey + "|" + host.address() + "|" + host.port();
    SmtpClientConnection reused = mayReuse ? pool.take(key) : null;
    Future<SmtpClientConnection> connection = reused != null ? Future.succeededFuture(reused)
        : SmtpClientConnection.open(vertx, client(attempt.options.interfaceAddress()), host, attempt.options, tls);
    OutboundMessage m = new OutboundMessage(attempt.message.sender(), open, attempt.message.dataFile(),
        attempt.message.size(), attempt.message.eightBit());
    return connection.compose(conn -> conn.send(m).map(result -> {
      pool.release(key, conn);
      return result;
    })).transform(ar -> {
      if (ar.failed()) {
        attempt.hostProblem(host, ar.cause() instanceof HostDeferral d ? d.getMessage() : String.valueOf(ar.cause()));
        return tryHosts(attempt, tls, hosts, index + 1, true);
      }
      MessageResult result = ar.result();
      if (reused != null && result.hostProblem() != null && result.recipients().stream().allMatch(r -> r.code() == 0)) {
        return tryHosts(attempt, tls, hosts, index, false);
      }
      attempt.answered(host, result);
      if (result.hostProblem() != null) {
        attempt.hostProblem(host, result.hostProblem());
        return tryHosts(attempt, tls, hosts, index + 1, true);
      }
      return Future.succeededFuture();
    });
  }

  private NetClient client(String interfaceAddress) {
    return clients.computeIfAbsent(interfaceAddress == null ? "" : interfaceAddress, a -> vertx.createNetClient(
        a.isEmpty() ? new NetClientOptions() : new NetClientOptions().setLocalAddress(a)));
  }

  /** The transport's TLS set-up, loaded once per configuration generation. */
  private Future<ClientTls> tls(String generation, String transport, SmtpTransportOptions options) {
    if (!generation.equals(tlsGeneration)) {
      tlsByTransport.clear();
      tlsGeneration = generation;
    }
    return tlsByTransport.computeIfAbsent(transport, t -> ClientTls.load(vertx, options)
        .onFailure(e -> tlsByTransport.remove(t))
        .recover(e -> Future.failedFuture(new HostDeferral("TLS client set-up failed: " + e.getMessage()))));
  }
}
