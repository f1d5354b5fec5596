package org.postern.listener;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postern.testing.TestPki;

import javax.net.ssl.SSLSocket;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The STARTTLS switch on a real socket, in the order Vert.x produces at cold start: the 220 goes
 * out, the client's ClientHello is read, and only then is the SslHandler added (Vert.x's listener on
 * the 220's write ran as a later task). The ClientHello must reach the handshake; plaintext sent
 * before the 220 must still never reach the session (CVE-2011-0411).
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class StartTlsGuardTest {
  private static final String INJECTED = "MAIL FROM:<inject@x.example>\r\n";

  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  /** Sizes of the raw reads, recorded after the guard has dealt with each. */
  private final BlockingQueue<Integer> rawReads = new LinkedBlockingQueue<>();
  /** What reached the session side of the guard. */
  private final BlockingQueue<String> session = new LinkedBlockingQueue<>();

  @AfterEach
  void stop() {
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  @Test
  void clientHelloReadBeforeTheSslHandlerIsAddedStillCompletesTheHandshake() throws Exception {
    TestPki pki = TestPki.shared();
    SslContext serverTls = SslContextBuilder.forServer(pki.server().key(), pki.server().certificate())
        .sslProvider(SslProvider.JDK).build();
    CompletableFuture<Channel> accepted = new CompletableFuture<>();
    Channel server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
        .childHandler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            ch.pipeline().addLast("tap", new Tap()).addLast(StartTlsGuard.NAME, new StartTlsGuard())
                .addLast("session", new Session());
            accepted.complete(ch);
          }
        }).bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    int port = ((InetSocketAddress) server.localAddress()).getPort();
    try (Socket raw = new Socket("127.0.0.1", port)) {
      raw.setSoTimeout(5000);
      Channel ch = accepted.get(5, TimeUnit.SECONDS);
      OutputStream out = raw.getOutputStream();
      // Pipelined behind STARTTLS, before the 220: must be dropped.
      out.write(INJECTED.getBytes(StandardCharsets.US_ASCII));
      out.flush();
      assertNotNull(rawReads.poll(5, TimeUnit.SECONDS), "the server never read the injected line");
      ch.writeAndFlush(Unpooled.copiedBuffer("220 2.0.0 Ready to start TLS\r\n", StandardCharsets.US_ASCII));
      BufferedReader in = new BufferedReader(new InputStreamReader(raw.getInputStream(), StandardCharsets.US_ASCII));
      assertTrue(in.readLine().startsWith("220 "));

      SSLSocket tls = (SSLSocket) pki.clientContext().getSocketFactory().createSocket(raw, TestPki.SERVER_NAME, port, true);
      CompletableFuture<Void> handshake = CompletableFuture.runAsync(() -> {
        try {
          tls.startHandshake();
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      Integer clientHello = rawReads.poll(5, TimeUnit.SECONDS);
      assertNotNull(clientHello, "the server never read the ClientHello");
      assertNull(session.peek(), "nothing may reach the session before TLS");
      // Now, and only now, what Vert.x's late listener does.
      ch.eventLoop().execute(() -> ch.pipeline().addFirst("ssl", serverTls.newHandler(ch.alloc())));

      handshake.get(5, TimeUnit.SECONDS);
      tls.getOutputStream().write("QUIT\r\n".getBytes(StandardCharsets.US_ASCII));
      tls.getOutputStream().flush();
      assertEquals("QUIT\r\n", session.poll(5, TimeUnit.SECONDS),
          "the session's first input must be the decrypted QUIT, never the injected plaintext");
    } finally {
      server.close().sync();
    }
  }

  /** Records each raw read once the guard (after it) has handled it. */
  private final class Tap extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      int size = ((ByteBuf) msg).readableBytes();
      ctx.fireChannelRead(msg);
      if (ctx.pipeline().get("ssl") == null) {
        rawReads.add(size);
      }
    }
  }

  private final class Session extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf buf = (ByteBuf) msg;
      session.add(buf.toString(StandardCharsets.US_ASCII));
      buf.release();
    }
  }
}
