package org.postern.listener;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.AttributeKey;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.net.NetServer;
import org.postern.bus.Addresses;
import org.postern.bus.ConnectionRefused;
import org.postern.config.ConfigHolder;
import org.postern.config.PosternConfig;
import org.postern.listener.ConnectionLimiter.Admission;
import org.postern.listener.proxy.ProxyHeader;
import org.postern.listener.proxy.ProxyHeaderReader;

import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Counts each connection of a listener the moment it is accepted, before any TLS handshake
 * (issue 11). Vert.x runs the connect handler of an implicit-TLS server only after the handshake,
 * so connections that never finish their ClientHello were invisible to {@code smtp_accept_max} and
 * {@code smtp_accept_max_per_host}: 21,000 of them exhausted the process's file descriptors. The
 * gate sits in the listening channel's pipeline, ahead of Netty's acceptor, and sees each new
 * channel before it is registered; on an implicit-TLS listener it also takes a
 * {@code tls_handshake_max} slot, held until the handshake ends ({@code tls_handshake_timeout}
 * bounds how long). An over-limit connection on an implicit-TLS port is closed at once, without a
 * handshake: nothing can be said to it in clear. On a plain port the verdict is handed to the
 * connect handler, which answers 421. The slots are released when the channel closes, however it
 * ends.
 *
 * <p>A connection from a {@code hosts_proxy} host (a load balancer) is counted under the proxy's
 * address, towards {@code smtp_accept_max} only, until its PROXY header names the real client: a
 * {@link ProxyHeaderReader} goes first in its pipeline, ahead of any TLS handler, and the count then
 * moves to the client, whose {@code smtp_accept_max_per_host} applies as if it had connected itself.
 */
@ChannelHandler.Sharable
final class AcceptGate extends ChannelInboundHandlerAdapter {
  private static final String NAME = "postern-accept-gate";
  private static final AttributeKey<Admission> VERDICT = AttributeKey.valueOf("postern.admission");
  /** The address the connection is counted under: the TCP peer, or the client a PROXY header named. */
  private static final AttributeKey<String> COUNTED = AttributeKey.valueOf("postern.counted-host");
  /** A {@code hosts_proxy} connection's header, complete or failed; absent on other connections. */
  private static final AttributeKey<CompletableFuture<ProxyHeader>> PROXY_HEADER =
      AttributeKey.valueOf("postern.proxy-header");

  private final boolean tls;
  private final ConfigHolder config;
  private final ConnectionLimiter limiter;
  private final ConnectionErrorLog errors;
  /** Where a refusal is published ({@link ConnectionRefused}), for the metrics. */
  private final EventBus bus;

  AcceptGate(boolean tls, ConfigHolder config, ConnectionLimiter limiter, ConnectionErrorLog errors, EventBus bus) {
    this.tls = tls;
    this.bus = bus;
    this.config = config;
    this.limiter = limiter;
    this.errors = errors;
  }

  /**
   * Puts the gate in front of the acceptor of a listening server; the future completes, on
   * {@code context}, once the gate is in place. Listener instances that share a port share its one
   * channel, which gets one gate. Reflection: Vert.x 5.0 has no public hook before the handshake
   * (the server channel belongs to the "actual" server of a shared port).
   */
  Future<Void> install(NetServer server, Context context) {
    Future<?> bound;
    try {
      Object actual = SharedServerSslFix.field(server.getClass(), "actualServer").get(server);
      bound = (Future<?>) SharedServerSslFix.field(actual.getClass(), "bindFuture").get(actual);
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new IllegalStateException("cannot count connections before their TLS handshake on this Vert.x version"
          + " (" + e + ")", e);
    }
    // The listening channel may still be binding when this instance's listen() completes.
    return bound.compose(c -> {
      Channel channel = (Channel) c;
      Promise<Void> installed = Promise.promise();
      // On the listening channel's own loop: added from another thread, the gate would be passed by
      // until Netty had run its handlerAdded there, and a connection accepted in that moment would be
      // counted only by the connect handler, which on an implicit-TLS port runs after the handshake
      // (so a connection accepted right after start held no tls_handshake_max slot while it handshook).
      channel.eventLoop().execute(() -> {
        if (channel.pipeline().get(NAME) == null) {
          channel.pipeline().addFirst(NAME, this);
        }
        context.runOnContext(v -> installed.complete());
      });
      return installed.future();
    });
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof Channel child && admit(child) != Admission.ACCEPTED && tls) {
      // Not yet registered with an event loop: closed as Netty's acceptor closes a channel it cannot register.
      child.unsafe().closeForcibly();
      return;
    }
    ctx.fireChannelRead(msg);
  }

  /**
   * The verdict on a connection; one accepted in the moment between {@code listen()} and
   * {@link #install} is admitted now.
   */
  Admission verdict(Channel channel) {
    Admission verdict = channel.attr(VERDICT).get();
    return verdict != null ? verdict : admit(channel);
  }

  /**
   * The PROXY header of a connection from a {@code hosts_proxy} host (completed on its event loop,
   * failed when the connection closed without one); null for any other connection.
   */
  static CompletableFuture<ProxyHeader> proxyHeader(Channel channel) {
    return channel.attr(PROXY_HEADER).get();
  }

  private Admission admit(Channel child) {
    PosternConfig c = config.current();
    String host = ((InetSocketAddress) child.remoteAddress()).getAddress().getHostAddress();
    boolean proxied = c.proxy().required(host);
    // A load balancer carries many clients: each one's per-host limit applies once its header names it.
    Admission verdict = limiter.admit(host, c.smtpAcceptMax(), proxied ? 0 : c.smtpAcceptMaxPerHost());
    if (verdict == Admission.ACCEPTED && tls && !limiter.startHandshake(c.tls().handshakeMax())) {
      limiter.release(host);
      verdict = Admission.TOO_MANY_HANDSHAKES;
    }
    child.attr(VERDICT).set(verdict);
    if (verdict == Admission.ACCEPTED) {
      child.attr(COUNTED).set(host);
      if (proxied) {
        // Ahead of everything Vert.x adds (its TLS handler included); behind AdmittedConnection, added next.
        child.attr(PROXY_HEADER).set(new CompletableFuture<>());
        child.pipeline().addFirst(ProxyHeaderReader.NAME, new ProxyHeaderReader(c.proxy().timeout(),
            new ProxiedConnection()));
      }
      child.pipeline().addFirst(AdmittedConnection.NAME, new AdmittedConnection(tls, child.isRegistered()));
    } else {
      refused(host, verdict, c);
    }
    return verdict;
  }

  private void refused(String host, Admission verdict, PosternConfig c) {
    errors.write(host, "Connection from [" + host + "] refused: " + switch (verdict) {
      case TOO_MANY -> "too many connections (smtp_accept_max=" + c.smtpAcceptMax() + ")";
      case TOO_MANY_FROM_HOST -> "too many connections from that IP address (smtp_accept_max_per_host="
          + c.smtpAcceptMaxPerHost() + ")";
      default -> "too many TLS handshakes in progress (tls_handshake_max=" + c.tls().handshakeMax() + ")";
    }, c.connectionErrorLogRate());
    String limit = switch (verdict) {
      case TOO_MANY -> "smtp_accept_max";
      case TOO_MANY_FROM_HOST -> "smtp_accept_max_per_host";
      default -> "tls_handshake_max";
    };
    bus.publish(Addresses.CONNECTION_REFUSED, new ConnectionRefused(limit).toJson(),
        new DeliveryOptions().setLocalOnly(true));
  }

  /**
   * A {@code hosts_proxy} connection's header: the count moves to the client it names. Over its
   * limit, a plain connection is handed on with the verdict (the connect handler answers 421); an
   * implicit-TLS one is closed before the handshake, as a direct client over its limit would be.
   */
  private final class ProxiedConnection implements ProxyHeaderReader.Outcome {
    @Override
    public boolean read(Channel channel, ProxyHeader header) {
      if (header.hasAddresses()) {
        PosternConfig c = config.current();
        String proxy = channel.attr(COUNTED).get();
        Admission verdict = limiter.move(proxy, header.sourceAddress(), c.smtpAcceptMaxPerHost());
        if (verdict == Admission.ACCEPTED) {
          channel.attr(COUNTED).set(header.sourceAddress());
        } else {
          channel.attr(VERDICT).set(verdict);
          refused(header.sourceAddress(), verdict, c);
          if (tls) {
            channel.attr(PROXY_HEADER).get().completeExceptionally(new IllegalStateException("refused"));
            return false;
          }
        }
      }
      channel.attr(PROXY_HEADER).get().complete(header);
      return true;
    }

    @Override
    public void failed(Channel channel, String reason) {
      String peer = channel.attr(COUNTED).get();
      int port = ((InetSocketAddress) channel.remoteAddress()).getPort();
      PosternConfig c = config.current();
      errors.write(peer, "Connection from [" + peer + "]:" + port + " (hosts_proxy) dropped: " + reason,
          c.connectionErrorLogRate());
      closedEarly(channel);
    }

    @Override
    public void closedEarly(Channel channel) {
      channel.attr(PROXY_HEADER).get().completeExceptionally(new IllegalStateException("no PROXY header"));
    }
  }

  /**
   * First in an admitted connection's pipeline: releases its slots when it closes, and, on an
   * implicit-TLS listener, its handshake slot when the handshake ends, logging a failure with the
   * client's address (Vert.x reports it without one).
   */
  private final class AdmittedConnection extends ChannelInboundHandlerAdapter {
    static final String NAME = "postern-admitted";
    private final boolean handshaking;
    private final boolean registered;
    private final AtomicBoolean handshakeEnded = new AtomicBoolean();

    AdmittedConnection(boolean handshaking, boolean registered) {
      this.handshaking = handshaking;
      this.registered = registered;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      if (registered) {
        track(ctx);
      }
    }

    @Override
    public void channelRegistered(ChannelHandlerContext ctx) {
      // Vert.x adds its SslHandler while the channel registers, after this handler was added.
      track(ctx);
      ctx.fireChannelRegistered();
    }

    private void track(ChannelHandlerContext ctx) {
      Channel channel = ctx.channel();
      int port = ((InetSocketAddress) channel.remoteAddress()).getPort();
      channel.closeFuture().addListener(f -> {
        limiter.release(channel.attr(COUNTED).get());
        endHandshake();
      });
      SslHandler ssl = ctx.pipeline().get(SslHandler.class);
      if (!handshaking || ssl == null) {
        endHandshake();
      } else {
        ssl.handshakeFuture().addListener(f -> {
          endHandshake();
          CompletableFuture<ProxyHeader> header = proxyHeader(channel);
          // A proxied connection without its header was logged (or was a health check), not a TLS failure.
          if (!f.isSuccess() && (header == null || !header.isCompletedExceptionally())) {
            String host = channel.attr(COUNTED).get();
            errors.write(host, "TLS error on connection from [" + host + "]:" + port + " (handshake failed): "
                + TlsErrors.describe(f.cause()), config.current().connectionErrorLogRate());
          }
        });
      }
      ctx.pipeline().remove(this);
    }

    private void endHandshake() {
      if (handshaking && handshakeEnded.compareAndSet(false, true)) {
        limiter.endHandshake();
      }
    }
  }
}
