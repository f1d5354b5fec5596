package org.postern.net;

import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;

/**
 * Acknowledges at once what the peer sent last, where the transport can (native epoll; NIO
 * ignores it). {@code TCP_QUICKACK} is not sticky in Linux, so it is set at each point where a
 * delayed ACK would stall the peer:
 *
 * <p>After a STARTTLS handshake the client speaks first (EHLO, RFC 3207 4.2). BoringSSL defers the
 * TLS 1.3 NewSessionTicket to the server's next write, so after the client's Finished the server
 * sends nothing; a client that leaves Nagle on then holds its EHLO until the server's delayed ACK
 * (40 ms on Linux), which made every OpenSSL STARTTLS session 40 ms longer than a JSSE one (JSSE
 * sends its ticket at once). Setting {@code TCP_QUICKACK} sends the pending ACK immediately (Linux
 * {@code tcp_sock_set_quickack}).
 *
 * <p>A milter (OpenDKIM) answers end-of-message in two writes; with Nagle on its side the second
 * waits for our ACK of the first, so the milter client acknowledges every read at once.
 */
public final class PromptAck {
  /** Netty's epoll option ({@code EpollChannelOption.TCP_QUICKACK}), by name: its class comes only with the native transport. */
  private static final String QUICKACK = "io.netty.channel.epoll.EpollChannelOption#TCP_QUICKACK";

  private PromptAck() {
  }

  /** Sends the ACK the kernel is holding back for {@code channel}, if any. */
  public static void now(Channel channel) {
    if (ChannelOption.exists(QUICKACK)) {
      // An NIO channel does not know the option and ignores it (returns false).
      channel.config().setOption(ChannelOption.valueOf(QUICKACK), Boolean.TRUE);
    }
  }
}
