package org.postern.listener;

import io.netty.channel.ChannelHandlerContext;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.SocketAddress;
import org.postern.bus.SessionOpen;
import org.postern.config.ConfigHolder;
import org.postern.config.ListenerConfig;
import org.postern.config.PosternConfig;
import org.postern.log.MainLog;
import org.postern.smtp.Replies;
import org.postern.spool.Spool;
import org.postern.tls.TlsFacts;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
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
  private SpoolContext spool;
  /** This instance's open connections, told when the server stops. */
  private final Set<SmtpConnection> connections = new HashSet<>();

  @Override
  public Future<?> start() {
    config = ConfigHolder.of(vertx);
    limiter = ConnectionLimiter.of(vertx);
    PosternConfig c = config.current();
    spool = SpoolContext.of(vertx, new Spool(c.spoolDirectory()));
    List<Future<?>> listening = new ArrayList<>();
    tls = TlsState.of(vertx);
    for (ListenerConfig l : c.listeners()) {
      boolean onConnect = c.tls().onConnectPorts().contains(l.port());
      NetServerOptions options = new NetServerOptions()
          .setHost(l.address()).setPort(l.port())
          .setAcceptBacklog(1024)
          .setTcpNoDelay(true)
          .setReuseAddress(true);
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
      server.connectHandler(socket -> accept(l, socket, onConnect));
      if (onConnect) {
        // A failed handshake never becomes a socket: Vert.x reports it here, without the peer's address.
        server.exceptionHandler(e -> MainLog.write("TLS error on connection to listener " + l.name() + " ("
            + l.address() + ":" + l.port() + ", handshake failed): " + TlsErrors.describe(e)));
        tlsServers.add(server);
      }
      servers.add(server);
      // Tests and -bh tools bind port 0 and look the real port up here.
      listening.add(server.listen().onSuccess(s -> {
        SharedServerSslFix.apply(s);
        vertx.sharedData().<String, Integer>getLocalMap(PORTS).put(l.name(), s.actualPort());
      }));
    }
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

  private void accept(ListenerConfig listener, NetSocket socket, boolean onConnect) {
    PosternConfig c = config.current();
    SocketAddress remote = socket.remoteAddress();
    String host = remote.hostAddress();
    ConnectionLimiter.Admission admission = limiter.admit(host, c.smtpAcceptMax(), c.smtpAcceptMaxPerHost());
    if (admission != ConnectionLimiter.Admission.ACCEPTED) {
      boolean global = admission == ConnectionLimiter.Admission.TOO_MANY;
      MainLog.write("Connection from [" + host + "] refused: too many connections"
          + (global ? " (smtp_accept_max=" + c.smtpAcceptMax() + ")"
          : " from that IP address (smtp_accept_max_per_host=" + c.smtpAcceptMaxPerHost() + ")"));
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
        MainLog.write("TLS error on connection from [" + host + "]:" + remote.port()
            + " (tls_verify_hosts): no verified client certificate" + (error == null ? "" : " (" + error + ")"));
        limiter.release(host);
        socket.close();
        return;
      }
    }
    String id = NODE + "-" + Long.toString(SESSIONS.incrementAndGet(), 36);
    SessionOpen facts = SessionOpen.network(id, host, remote.port(), local.hostAddress(), local.port(),
        listener.name(), !onConnect && tls.current() != null, tlsFacts);
    SmtpConnection connection = new SmtpConnection(vertx, new SocketChannel(socket, tls, host), facts, spool, c,
        false);
    connections.add(connection);
    connection.onClose(() -> {
      limiter.release(host);
      connections.remove(connection);
    });
    socket.handler(connection::received);
    socket.closeHandler(v -> connection.disconnected());
    socket.exceptionHandler(e -> connection.disconnected());
    connection.start();
  }

  /** {@link SmtpChannel} over a TCP socket. */
  private record SocketChannel(NetSocket socket, TlsState tls, String host) implements SmtpChannel {
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
      ChannelHandlerContext vertxHandler = ((NetSocketInternal) socket).channelHandlerContext();
      vertxHandler.pipeline().addBefore(vertxHandler.name(), StartTlsGuard.NAME, new StartTlsGuard());
      TlsProfiles profiles = tls.current();
      if (profiles == null || socket.isSsl()) {
        return Future.failedFuture("TLS unavailable");
      }
      try {
        return socket.upgradeToSsl(profiles.forHost(host), null, reply).map(v -> TlsFacts.of(socket));
      } catch (RuntimeException e) {
        // A socket Vert.x cannot upgrade must get 454, not hang.
        vertxHandler.pipeline().remove(StartTlsGuard.NAME);
        return Future.failedFuture(new IllegalStateException("TLS unavailable: " + e, e));
      }
    }
  }
}
