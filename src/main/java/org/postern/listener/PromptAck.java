package org.postern.listener;

import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;

/**
 * Acknowledges at once what the client sent last, where the transport can (native epoll).
 *
 * <p>After a STARTTLS handshake the client speaks first (EHLO, RFC 3207 4.2). BoringSSL defers the
 * TLS 1.3 NewSessionTicket to the server's next write, so after the client's Finished the server
 * sends nothing; a client that leaves Nagle on then holds its EHLO until the server's delayed ACK
 * (40 ms on Linux), which made every OpenSSL STARTTLS session 40 ms longer than a JSSE one (JSSE
 * sends its ticket at once). Setting {@code TCP_QUICKACK} sends the pending ACK immediately (Linux
 * {@code tcp_sock_set_quickack}); it is not sticky, so it is set again for each handshake.
 */
final class PromptAck {
  /** Netty's epoll option ({@code EpollChannelOption.TCP_QUICKACK}), by name: its class comes only with the native transport. */
  private static final String QUICKACK = "io.netty.channel.epoll.EpollChannelOption#TCP_QUICKACK";

  private PromptAck() {
  }

  static void now(Channel channel) {
    if (ChannelOption.exists(QUICKACK)) {
      // An NIO channel does not know the option and ignores it (returns false).
      channel.config().setOption(ChannelOption.valueOf(QUICKACK), Boolean.TRUE);
    }
  }
}
