package org.postern.listener;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;

import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * Keeps the STARTTLS switch exact: plaintext that arrives before the 220 reply is written is
 * dropped (the CVE-2011-0411 injection), and bytes that arrive after it are the client's
 * ClientHello (RFC 3207 section 4: the client starts the handshake only on the 220), held until the
 * {@link SslHandler} is in the pipeline and then fed through it.
 *
 * <p>Vert.x ({@code NetSocketImpl.sslUpgrade}) writes the 220 and adds the SslHandler in a
 * listener on that write. The first upgrades after a start (or after a new certificate) wait on one
 * shared SSL-context future that completes on whichever event loop built it, so for a session on
 * another loop the write is queued to the session's loop and the listener can be attached only after
 * the write has completed; Netty then runs it as a later task, after the loop may already have read
 * the ClientHello. Dropping that read left the handshake waiting for its timeout (10 s), so the
 * guard holds it instead, and stops reading until then, so that no later segment of the handshake can
 * reach the SslHandler before the held one. The guard removes itself once decrypted data flows, and
 * sees every write because it sits between Vert.x's handler and the network.
 */
final class StartTlsGuard extends ChannelDuplexHandler {
  static final String NAME = "postern-starttls-guard";
  /** A ClientHello is one record of at most 16 KB plus header (RFC 8446 section 5.1); more is not a handshake. */
  private static final int MAX_HELD = 16 * 1024 + 5 + 1024;
  /** How often to look again for the SslHandler when Vert.x has not yet attached the listener that adds it. */
  private static final long RECHECK_MICROS = 500;

  private final ArrayDeque<ByteBuf> held = new ArrayDeque<>();
  private int heldBytes;
  private boolean replySent;
  private boolean checkPending;
  private volatile boolean upgradeOver;

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    // The only write while the session waits for the upgrade is Vert.x's 220: from here on the
    // client may legitimately send TLS.
    replySent = true;
    ctx.write(msg, promise);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (ctx.pipeline().get(SslHandler.class) != null && held.isEmpty()) {
      // Decrypted: the SslHandler is in front of us now.
      ctx.pipeline().remove(this);
      ctx.fireChannelRead(msg);
      return;
    }
    if (!replySent || !(msg instanceof ByteBuf buf) || heldBytes + buf.readableBytes() > MAX_HELD) {
      // Sent before the 220 could have been seen: plaintext injected after STARTTLS. Never let it
      // reach the session. (Held bytes only ever go to the SslHandler, so even a late injection is
      // at worst a failed handshake; more than a ClientHello is not held at all.)
      ReferenceCountUtil.release(msg);
      return;
    }
    held.add(buf);
    heldBytes += buf.readableBytes();
    // Vert.x only turns auto-read off itself for its own back-pressure, which cannot build up behind this guard.
    ctx.channel().config().setAutoRead(false);
    scheduleCheck(ctx, false);
  }

  /** The upgrade succeeded or failed; a failed one must not keep its held bytes, nor keep looking. */
  void upgradeOver() {
    upgradeOver = true;
  }

  private void scheduleCheck(ChannelHandlerContext ctx, boolean later) {
    if (checkPending) {
      return;
    }
    checkPending = true;
    if (later) {
      ctx.executor().schedule(() -> check(ctx), RECHECK_MICROS, TimeUnit.MICROSECONDS);
    } else {
      // A task queued after Vert.x's own listener task (the usual case) finds the handler at once.
      ctx.executor().execute(() -> check(ctx));
    }
  }

  private void check(ChannelHandlerContext ctx) {
    checkPending = false;
    if (ctx.isRemoved() || held.isEmpty()) {
      return;
    }
    if (ctx.pipeline().get(SslHandler.class) == null) {
      if (upgradeOver || !ctx.channel().isActive()) {
        releaseHeld();
        ctx.channel().config().setAutoRead(true);
      } else {
        scheduleCheck(ctx, true);
      }
      return;
    }
    // Feed the held bytes from the head, so that they pass the SslHandler as if just read.
    while (!held.isEmpty()) {
      ByteBuf buf = held.poll();
      heldBytes -= buf.readableBytes();
      ctx.pipeline().fireChannelRead(buf);
    }
    ctx.pipeline().fireChannelReadComplete();
    ctx.channel().config().setAutoRead(true);
  }

  private void releaseHeld() {
    held.forEach(ReferenceCountUtil::release);
    held.clear();
    heldBytes = 0;
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    releaseHeld();
  }
}
