package org.postern.listener;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.SocketAddress;
import org.postern.config.ConfigHolder;
import org.postern.config.ListenerConfig;
import org.postern.config.PosternConfig;
import org.postern.log.MainLog;
import org.postern.smtp.Replies;
import org.postern.spool.Spool;

import java.util.ArrayList;
import java.util.List;
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

  private final List<NetServer> servers = new ArrayList<>();
  private ConfigHolder config;
  private ConnectionLimiter limiter;
  private SpoolContext spool;

  @Override
  public Future<?> start() {
    config = ConfigHolder.of(vertx);
    limiter = ConnectionLimiter.of(vertx);
    PosternConfig c = config.current();
    spool = SpoolContext.of(vertx, new Spool(c.spoolDirectory()));
    List<Future<?>> listening = new ArrayList<>();
    for (ListenerConfig l : c.listeners()) {
      NetServer server = vertx.createNetServer(new NetServerOptions()
          .setHost(l.address()).setPort(l.port())
          .setAcceptBacklog(1024)
          .setTcpNoDelay(true)
          .setReuseAddress(true));
      server.connectHandler(socket -> accept(l, socket));
      servers.add(server);
      // Tests and -bh tools bind port 0 and look the real port up here.
      listening.add(server.listen().onSuccess(s -> vertx.sharedData().<String, Integer>getLocalMap(PORTS)
          .put(l.name(), s.actualPort())));
    }
    return Future.all(listening);
  }

  @Override
  public Future<?> stop() {
    List<Future<?>> closing = new ArrayList<>();
    servers.forEach(s -> closing.add(s.close()));
    return Future.all(closing);
  }

  private void accept(ListenerConfig listener, NetSocket socket) {
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
    JsonObject facts = new JsonObject()
        .put("remote_address", host).put("remote_port", remote.port())
        .put("local_address", local.hostAddress()).put("local_port", local.port())
        .put("listener", listener.name());
    String id = NODE + "-" + Long.toString(SESSIONS.incrementAndGet(), 36);
    SmtpConnection connection = new SmtpConnection(vertx, new SocketChannel(socket), id, facts, spool, c, false);
    connection.onClose(() -> limiter.release(host));
    socket.handler(connection::received);
    socket.closeHandler(v -> connection.disconnected());
    socket.exceptionHandler(e -> connection.disconnected());
    connection.start();
  }

  /** {@link SmtpChannel} over a TCP socket. */
  private record SocketChannel(NetSocket socket) implements SmtpChannel {
    @Override
    public void write(io.vertx.core.buffer.Buffer data) {
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
  }
}
