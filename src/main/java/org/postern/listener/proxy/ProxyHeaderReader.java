package org.postern.listener.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import org.postern.listener.proxy.ProxyHeaderDecoder.MalformedHeaderException;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * First in the pipeline of a connection from a {@code hosts_proxy} host, ahead of the TLS handler
 * of an implicit-TLS listener: it takes the PROXY header off the stream, so neither the TLS engine
 * nor the SMTP line decoder ever sees it, and passes on the bytes that followed it in the same read
 * (a ClientHello, pipelined commands) before it removes itself. A header not complete within
 * {@code proxy_protocol_timeout}, or malformed, closes the connection without a word: whatever
 * sent it is not a proxy speaking the protocol, and anything said would go to the wrong party.
 */
public final class ProxyHeaderReader extends ChannelInboundHandlerAdapter {
  public static final String NAME = "postern-proxy-header";

  /** What becomes of the connection; called on its event loop, once. */
  public interface Outcome {
    /** The header is complete; false to close the connection instead (the client is over a limit). */
    boolean read(Channel channel, ProxyHeader header);

    /** The header was malformed or late ({@code reason}); the connection is being closed. */
    void failed(Channel channel, String reason);

    /** The peer closed before its header was complete (a TCP health check does this). */
    void closedEarly(Channel channel);
  }

  private final ProxyHeaderDecoder decoder = new ProxyHeaderDecoder();
  private final Duration timeout;
  private final Outcome outcome;
  private ScheduledFuture<?> timer;
  /** The header is read (or refused): nothing more to decide. */
  private boolean done;
  /** Refused: bytes that still arrive before the close completes go nowhere. */
  private boolean refused;

  public ProxyHeaderReader(Duration timeout, Outcome outcome) {
    this.timeout = timeout;
    this.outcome = outcome;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    // Added before the channel registered, this runs once it has: the executor is its event loop.
    timer = ctx.executor().schedule(() -> fail(ctx, "no complete PROXY protocol header within"
        + " proxy_protocol_timeout (" + timeout.toMillis() + "ms)"), timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (refused) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (done || !(msg instanceof ByteBuf buf)) {
      ctx.fireChannelRead(msg);
      return;
    }
    try {
      // Within V2_MAX_LENGTH bytes every header is complete or refused, so no more is ever copied.
      int n = Math.min(buf.readableBytes(), ProxyHeaderDecoder.V2_MAX_LENGTH);
      buf.skipBytes(decoder.feed(ByteBufUtil.getBytes(buf, buf.readerIndex(), n), 0, n));
    } catch (MalformedHeaderException e) {
      buf.release();
      fail(ctx, "malformed PROXY protocol header: " + e.getMessage());
      return;
    }
    ProxyHeader header = decoder.header();
    if (header == null) {
      buf.release();
      return;
    }
    finish();
    if (!outcome.read(ctx.channel(), header)) {
      buf.release();
      refused = true;
      ctx.close();
      return;
    }
    if (buf.isReadable()) {
      ctx.fireChannelRead(buf);
    } else {
      buf.release();
    }
    ctx.pipeline().remove(this);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (!done) {
      finish();
      outcome.closedEarly(ctx.channel());
    }
    ctx.fireChannelInactive();
  }

  private void fail(ChannelHandlerContext ctx, String reason) {
    if (done) {
      return;
    }
    finish();
    refused = true;
    outcome.failed(ctx.channel(), reason);
    ctx.close();
  }

  private void finish() {
    done = true;
    if (timer != null) {
      timer.cancel(false);
    }
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    finish();
  }
}
