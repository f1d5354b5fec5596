package org.postern.delivery;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import org.postern.bus.Addresses;
import org.postern.bus.BusCodecs;
import org.postern.bus.DeliveryRequest;
import org.postern.bus.DeliveryResult;
import org.postern.bus.DeliveryStatus;
import org.postern.bus.RemoteHost;
import org.postern.config.ConfigHolder;
import org.postern.config.PosternConfig;
import org.postern.delivery.smtp.ClientTls;
import org.postern.delivery.smtp.HostDeferral;
import org.postern.delivery.smtp.MessageResult;
import org.postern.delivery.smtp.OutboundMessage;
import org.postern.delivery.smtp.RecipientResult;
import org.postern.delivery.smtp.SmtpClientConnection;
import org.postern.config.SmtpTransportOptions;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code smtp} transport on {@code postern.deliver.smtp}: a {@link DeliveryRequest} whose
 * recipients are envelope addresses and whose hosts are tried in order; the next one is tried only
 * for recipients deferred by a problem of the host (connection refused, timeout, lost connection),
 * as Exim does. The {@link DeliveryResult} names, for each recipient, the host that gave its result
 * (none when no host answered), the TLS facts of that connection (none in clear) and the client
 * authenticator used (none without AUTH). An open connection is kept for a few seconds for the
 * next message to the same host through the same transport. One {@link NetClient} per verticle
 * instance and {@code interface} address.
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
    BusCodecs.register(vertx);
    return vertx.eventBus().<DeliveryRequest>localConsumer(ADDRESS, this::deliver).completion();
  }

  @Override
  public Future<?> stop() {
    // The QUITs first: closing the clients (or Vert.x, at the end of -M and -q) drops their sockets.
    return pool.closeAll().transform(x -> Future.join(clients.values().stream().map(NetClient::close).toList()));
  }

  private void deliver(Message<DeliveryRequest> msg) {
    DeliveryRequest request = msg.body();
    PosternConfig c = config.current();
    SmtpTransportOptions options = c.delivery().transports().get(request.transport());
    if (options == null || request.recipients().isEmpty()) {
      msg.fail(400, options == null ? "no smtp transport named " + request.transport() : "no recipients");
      return;
    }
    // RFC 8689 5 and 4.1: TLS-Required: No waives the TLS policy, unless REQUIRETLS (which wins) or the admin says no.
    boolean waived = request.tlsRequiredNo() && !request.requireTls() && options.honourTlsRequiredNo();
    OutboundMessage message = new OutboundMessage(request.sender(), request.recipients(),
        Path.of(request.dataFile()), request.size(), request.eightBit(), request.dsn(), request.smtpUtf8(),
        request.requireTls(), waived);
    // Connections spared the TLS policy are pooled apart: a message that needs the policy never meets one.
    Attempt attempt = new Attempt(c.generation() + "|" + request.transport() + (waived ? "|tls-required-no" : ""),
        options, message);
    tls(c.generation(), request.transport(), options)
        .compose(tls -> tryHosts(attempt, tls, request.hosts(), 0, true))
        .onFailure(e -> request.hosts().forEach(h -> attempt.hostProblem(h, e.getMessage())))
        .onComplete(ar -> msg.reply(attempt.result()));
  }

  /** The connection a result came from: the host, its TLS facts (null in clear) and the authenticator (or null). */
  private record Answer(RemoteHost host, String tls, String authenticator, boolean chunking) {
  }

  /** What one request has learnt so far. */
  private static final class Attempt {
    final String poolKey;
    final SmtpTransportOptions options;
    final OutboundMessage message;
    final Map<String, RecipientResult> results = new LinkedHashMap<>();
    final Map<String, Answer> answers = new HashMap<>();
    final List<DeliveryResult.HostProblem> hostProblems = new ArrayList<>();

    Attempt(String poolKey, SmtpTransportOptions options, OutboundMessage message) {
      this.poolKey = poolKey;
      this.options = options;
      this.message = message;
    }

    List<String> open() {
      return message.recipients().stream().filter(r -> !results.containsKey(r)
          || results.get(r).status() == DeliveryStatus.DEFERRED && results.get(r).code() == 0).toList();
    }

    void hostProblem(RemoteHost host, String reason) {
      hostProblems.add(new DeliveryResult.HostProblem(host, reason));
    }

    DeliveryResult result() {
      List<DeliveryResult.Recipient> out = new ArrayList<>();
      for (String r : message.recipients()) {
        RecipientResult rr = results.get(r);
        if (rr == null) {
          String reason = hostProblems.isEmpty() ? "no host to deliver to"
              : hostProblems.get(hostProblems.size() - 1).reason();
          rr = new RecipientResult(r, DeliveryStatus.DEFERRED, 0, null, reason);
        }
        Answer a = answers.get(r);
        out.add(new DeliveryResult.Recipient(r, rr.status(), rr.code(), rr.enhanced(), rr.text(),
            a == null ? null : a.host(), a == null ? null : a.tls(), a == null ? null : a.authenticator(),
            a != null && a.chunking(), rr.dsnPassedOn()));
      }
      return new DeliveryResult(out, hostProblems);
    }

    void answered(RemoteHost host, MessageResult result) {
      Answer a = new Answer(host, tlsLog(result), result.authenticator(), result.chunking());
      result.recipients().forEach(r -> {
        results.put(r.address(), r);
        answers.put(r.address(), a);
      });
    }
  }

  /**
   * The TLS fields of the {@code =>} line: Exim's {@code X= CV= DN=}, and {@code TLS-Required=No} when
   * the message went in clear or unverified only because it asked for that (RFC 8689 5), so an admin
   * sees why {@code hosts_require_tls} or {@code tls_verify_hosts} did not hold it back.
   */
  private static String tlsLog(MessageResult result) {
    String x = result.tls() == null ? null : result.tls().logText();
    if (!result.belowPolicy()) {
      return x;
    }
    return x == null ? "TLS-Required=No" : x + " TLS-Required=No";
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
        : SmtpClientConnection.open(vertx, client(attempt.options.interfaceAddress()), host, attempt.options, tls,
            attempt.message.tlsPolicyWaived());
    OutboundMessage m = attempt.message.forRecipients(open);
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
