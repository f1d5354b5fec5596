package org.postern.listener;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;

/**
 * Drops plaintext that arrives between the STARTTLS command and the TLS handshake (the
 * CVE-2011-0411 injection). Vert.x pauses the socket during {@code upgradeToSsl} and replays the
 * bytes it read meanwhile after the handshake, as if they had come through TLS; this handler sits
 * in front of Vert.x's own and discards every read that did not pass through an {@link SslHandler}.
 * Once decrypted data flows it removes itself.
 */
final class StartTlsGuard extends ChannelInboundHandlerAdapter {
  static final String NAME = "postern-starttls-guard";

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (ctx.pipeline().get(SslHandler.class) == null) {
      // Not yet encrypted: plaintext injected after STARTTLS. Never let it reach the session.
      ReferenceCountUtil.release(msg);
      return;
    }
    ctx.pipeline().remove(this);
    ctx.fireChannelRead(msg);
  }
}
