package org.postern.listener;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.SocketAddress;
import org.postern.bus.BusCodecs;
import org.postern.bus.SessionOpen;
import org.postern.config.ConfigHolder;
import org.postern.config.ListenerConfig;
import org.postern.config.PosternConfig;
import org.postern.listener.proxy.ProxyHeader;
import org.postern.log.MainLog;
import org.postern.net.PromptAck;
import org.postern.smtp.Replies;
import org.postern.spool.Spool;
import org.postern.tls.TlsFacts;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Owns the listening sockets. Several instances share the ports (Vert.x spreads connections across
 * their event loops); each accepted socket becomes an {@link SmtpConnection}. Listener addresses
 * and ports are read at start: changing them needs a restart, everything else reloads live.
 */
public final class ListenerVerticle extends VerticleBase {
  /** Local map of listener name to bound port. */
  public static final String PORTS = "postern.ports";
  private static final AtomicLong SESSIONS = new AtomicLong();
  private static final String NODE = Long.toString(System.nanoTime() & 0xffffff, 36);

  private static final Logger LOG = LoggerFactory.getLogger(ListenerVerticle.class);
  private final List<NetServer> servers = new ArrayList<>();
  private final List<NetServer> tlsServers = new ArrayList<>();
  private TlsState tls;
  private ConfigHolder config;
  private ConnectionLimiter limiter;
  private ConnectionErrorLog errors;
  private SpoolContext spool;
  /** This instance's open connections, told when the server stops. */
  private final Set<SmtpConnection> connections = new HashSet<>();

  @Override
  public Future<?> start() {
    config = ConfigHolder.of(vertx);
    limiter = ConnectionLimiter.of(vertx);
    errors = ConnectionErrorLog.of(vertx);
    PosternConfig c = config.current();
    spool = SpoolContext.of(vertx, new Spool(c.spoolDirectory()));
    BusCodecs.register(vertx);
    List<Future<?>> listening = new ArrayList<>();
    tls = TlsState.of(vertx);
    Context context = vertx.getOrCreateContext();
    for (ListenerConfig l : c.listeners()) {
      boolean onConnect = c.tls().onConnectPorts().contains(l.port());
      NetServerOptions options = new NetServerOptions()
          .setHost(l.address()).setPort(l.port())
          .setAcceptBacklog(1024)
          .setTcpNoDelay(true)
          .setReuseAddress(true)
          // STARTTLS (upgradeToSsl) and TLS-on-connect both take the server's engine.
          .setSslEngineOptions(c.tls().engine().options());
      if (onConnect) {
        TlsProfiles profiles = tls.current();
        if (profiles == null) {
          LOG.error("listener {} ({}:{}) needs TLS, which is unavailable: not started", l.name(), l.address(),
              l.port());
          continue;
        }
        profiles.applyTo(options);
      }
      NetServer server = vertx.createNetServer(options);
      AcceptGate gate = new AcceptGate(onConnect, config, limiter, errors, vertx.eventBus());
      server.connectHandler(socket -> accept(l, socket, gate, onConnect));
      if (onConnect) {
        tlsServers.add(server);
      }
      servers.add(server);
      // Tests and -bh tools bind port 0 and look the real port up here.
      // A listener whose connections cannot be counted before the handshake must not start: compose fails on a throw.
      listening.add(server.listen().compose(s -> gate.install(s, context).map(v -> {
        SharedServerSslFix.apply(s);
        vertx.sharedData().<String, Integer>getLocalMap(PORTS).put(l.name(), s.actualPort());
        return s;
      })));
    }
    vertx.setPeriodic(1000, t -> errors.flush());
    vertx.eventBus().localConsumer(TlsState.CHANGED, m -> {
      TlsProfiles profiles = tls.current();
      // A new certificate for new handshakes; sessions already in TLS go on with the old one.
      tlsServers.forEach(server -> server.updateSSLOptions(profiles.onConnect(), true));
    });
    return Future.all(listening);
  }

  @Override
  public Future<?> stop() {
    // Each one says 421 and tells its session why it ends (signal-exit), while the session tier is still up.
    List.copyOf(connections).forEach(SmtpConnection::serverShutdown);
    List<Future<?>> closing = new ArrayList<>();
    servers.forEach(s -> closing.add(s.close()));
    return Future.all(closing);
  }

  private void accept(ListenerConfig listener, NetSocket socket, AcceptGate gate, boolean onConnect) {
    Channel channel = ((NetSocketInternal) socket).channelHandlerContext().channel();
    // Admits now a connection accepted before the gate was installed (it then has no PROXY reader).
    gate.verdict(channel);
    CompletableFuture<ProxyHeader> header = AcceptGate.proxyHeader(channel);
    if (header == null) {
      open(listener, socket, gate, onConnect, null);
      return;
    }
    // From a hosts_proxy host: the session starts once the header has named the client. What the
    // client pipelined after it waits in the paused socket.
    socket.pause();
    Context context = vertx.getOrCreateContext();
    header.whenComplete((h, failed) -> {
      if (failed == null) {
        context.runOnContext(v -> {
          // The client may have gone in between; a connection that failed its header is closed already.
          if (channel.isActive()) {
            open(listener, socket, gate, onConnect, h);
          }
        });
      }
    });
  }

  /** Starts the session of an admitted connection; {@code proxied} is its PROXY header, if it came through one. */
  private void open(ListenerConfig listener, NetSocket socket, AcceptGate gate, boolean onConnect,
                    ProxyHeader proxied) {
    PosternConfig c = config.current();
    SocketAddress peer = socket.remoteAddress();
    String host = proxied == null ? peer.hostAddress() : proxied.clientAddress(peer.hostAddress());
    int port = proxied == null ? peer.port() : proxied.clientPort(peer.port());
    // Counted (and logged when refused) by the gate when the connection was accepted, or when its
    // PROXY header moved the count to the client; released when it closes.
    ConnectionLimiter.Admission admission = gate.verdict(((NetSocketInternal) socket).channelHandlerContext().channel());
    if (admission != ConnectionLimiter.Admission.ACCEPTED) {
      boolean global = admission == ConnectionLimiter.Admission.TOO_MANY;
      socket.write((global ? Replies.TOO_MANY_CONNECTIONS : Replies.TOO_MANY_CONNECTIONS_FROM_HOST).render())
          .eventually(socket::close);
      return;
    }
    SocketAddress local = socket.localAddress();
    JsonObject tlsFacts = null;
    if (onConnect) {
      // The implicit-TLS server asks every client for a certificate when some host needs one;
      // tls_verify_hosts is enforced here, after the handshake.
      tlsFacts = TlsFacts.of(socket);
      if (c.tls().verifyHosts().matches(host, null) && tlsFacts.getInteger("tls_certificate_verified", 0) != 1) {
        String error = tlsFacts.getString("tls_certificate_error");
        MainLog.write("TLS error on connection from [" + host + "]:" + port
            + " (tls_verify_hosts): no verified client certificate" + (error == null ? "" : " (" + error + ")"));
        socket.close();
        return;
      }
    }
    String id = NODE + "-" + Long.toString(SESSIONS.incrementAndGet(), 36);
    SessionOpen facts = SessionOpen.network(id, host, port, local.hostAddress(), local.port(),
        listener.name(), !onConnect && tls.current() != null, tlsFacts);
    if (proxied != null) {
      facts = facts.withProxy(proxied.session(peer.hostAddress(), peer.port()));
    }
    SmtpConnection connection = new SmtpConnection(vertx,
        new SocketChannel(socket, tls, host, limiter, config, errors), facts, spool, c, false);
    connections.add(connection);
    // The gate releases the connection's limit slots when the channel closes.
    connection.onClose(() -> connections.remove(connection));
    socket.handler(connection::received);
    socket.closeHandler(v -> connection.disconnected());
    socket.exceptionHandler(e -> connection.disconnected());
    connection.start();
    if (proxied != null) {
      socket.resume();
    }
  }

  /** {@link SmtpChannel} over a TCP socket. */
  private record SocketChannel(NetSocket socket, TlsState tls, String host, ConnectionLimiter limiter,
                               ConfigHolder config, ConnectionErrorLog errors) implements SmtpChannel {
    @Override
    public void write(Buffer data) {
      socket.write(data);
    }

    @Override
    public void close() {
      socket.close();
    }

    @Override
    public void pause() {
      socket.pause();
    }

    @Override
    public void resume() {
      socket.resume();
    }

    @Override
    public Future<JsonObject> startTls(Buffer reply) {
      TlsProfiles profiles = tls.current();
      if (profiles == null || socket.isSsl()) {
        return Future.failedFuture("TLS unavailable");
      }
      PosternConfig c = config.current();
      // STARTTLS handshakes share tls_handshake_max with implicit TLS: 454, and the session goes on in clear.
      if (!limiter.startHandshake(c.tls().handshakeMax())) {
        errors.write(host, "STARTTLS from [" + host + "] refused: too many TLS handshakes in progress"
            + " (tls_handshake_max=" + c.tls().handshakeMax() + ")", c.connectionErrorLogRate());
        return Future.failedFuture("TLS unavailable: too many TLS handshakes in progress");
      }
      ChannelHandlerContext vertxHandler = ((NetSocketInternal) socket).channelHandlerContext();
      StartTlsGuard guard = new StartTlsGuard();
      vertxHandler.pipeline().addBefore(vertxHandler.name(), StartTlsGuard.NAME, guard);
      try {
        return socket.upgradeToSsl(profiles.forHost(host), null, reply)
            .map(v -> {
              PromptAck.now(vertxHandler.channel());
              return TlsFacts.of(socket);
            })
            .andThen(r -> {
              guard.upgradeOver();
              limiter.endHandshake();
            });
      } catch (RuntimeException e) {
        // A socket Vert.x cannot upgrade must get 454, not hang.
        limiter.endHandshake();
        vertxHandler.pipeline().remove(StartTlsGuard.NAME);
        return Future.failedFuture(new IllegalStateException("TLS unavailable: " + e, e));
      }
    }
  }
}
