package org.postern.cli;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import org.postern.bus.SessionOpen;
import org.postern.config.PosternConfig;
import org.postern.listener.SmtpChannel;
import org.postern.listener.SmtpConnection;
import org.postern.listener.SpoolContext;
import org.postern.listener.proxy.ProxyHeader;
import org.postern.listener.proxy.ProxyHeaderDecoder;
import org.postern.spool.Spool;

import java.io.InputStream;
import java.io.PrintStream;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * An SMTP session over standard input and output, as inetd or a local program runs Exim with
 * {@code -bs}: the same state machine, policy and spool as the daemon, with no TCP peer
 * ({@code $sender_host_address} is empty, the protocol is {@code local-esmtp}).
 */
final class LocalSmtp {
  private static final String SESSION_ID = "local-" + ProcessHandle.current().pid();
  private final Vertx vertx;
  private final PosternConfig config;
  private SessionOpen hostCheck;

  LocalSmtp(Vertx vertx, PosternConfig config) {
    this.vertx = vertx;
    this.config = config;
  }

  /** Exim's {@code -bh}: the session is from this address, ACL decisions are traced, nothing is kept. */
  LocalSmtp hostCheck(String address, int port, String interfaceAddress, int interfacePort, String hostName) {
    this.hostCheck = SessionOpen.hostCheck(SESSION_ID, address, port, interfaceAddress, interfacePort, hostName);
    return this;
  }

  /**
   * Runs one session to its end and waits for the first delivery attempt of what it accepted.
   *
   * @param batch  Exim's {@code -bS} semantics in the session
   * @param replies receives the reply text; for {@code -bs} it goes to stdout
   * @param atEndOfInput called when the input ends, before the session is told
   * @return the connection, finished
   */
  Future<SmtpConnection> run(InputStream in, boolean batch, BiConsumer<SmtpConnection, String> replies,
                             Consumer<SmtpConnection> atEndOfInput) {
    Context context = vertx.getOrCreateContext();
    Promise<SmtpConnection> done = Promise.promise();
    context.runOnContext(v -> {
      SpoolContext spool = SpoolContext.of(vertx, new Spool(config.spoolDirectory()));
      SessionOpen facts = hostCheck == null ? SessionOpen.local(SESSION_ID, batch) : hostCheck;
      StdinReader[] reader = new StdinReader[1];
      SmtpConnection[] self = new SmtpConnection[1];
      SmtpChannel channel = new SmtpChannel() {
        @Override
        public void write(Buffer data) {
          replies.accept(self[0], data.toString());
        }

        @Override
        public void close() {
          reader[0].stop();
        }

        @Override
        public void pause() {
          reader[0].pause();
        }

        @Override
        public void resume() {
          reader[0].resume();
        }
      };
      Function<SessionOpen, SmtpConnection> open = f -> {
        SmtpConnection connection = new SmtpConnection(vertx, channel, f, spool, config, true);
        self[0] = connection;
        connection.flushEachReply(batch);
        connection.onInputExhausted(() -> atEndOfInput.accept(connection));
        connection.onClose(() -> Future.join(connection.deliveries()).onComplete(r -> done.complete(self[0])));
        return connection;
      };
      if (hostCheck != null && config.proxy().required(hostCheck.remoteAddress())) {
        // Exim: a host in hosts_proxy must start with a PROXY header, under -bh too (read from stdin).
        System.err.println(">>> host in hosts_proxy: reading a PROXY protocol header (v1 or v2) from stdin");
        ProxiedInput input = new ProxiedInput(open, () -> {
          reader[0].stop();
          done.complete(null);
        });
        reader[0] = new StdinReader(in, context, input::received, input::ended);
      } else {
        SmtpConnection connection = open.apply(facts);
        reader[0] = new StdinReader(in, context, connection::received, connection::endOfInput);
        connection.start();
      }
      reader[0].start();
    });
    return done.future();
  }

  /**
   * {@code -bh} from a {@code hosts_proxy} host: the PROXY header first, then a session as from the
   * client it names, with the {@code $proxy_*} variables set; a malformed or missing header ends it
   * before the greeting, as the daemon drops the connection.
   */
  private final class ProxiedInput {
    private final ProxyHeaderDecoder decoder = new ProxyHeaderDecoder();
    /** Makes the session's connection (not yet started). */
    private final Function<SessionOpen, SmtpConnection> open;
    private final Runnable dropped;
    private SmtpConnection connection;

    ProxiedInput(Function<SessionOpen, SmtpConnection> open, Runnable dropped) {
      this.open = open;
      this.dropped = dropped;
    }

    void received(Buffer chunk) {
      if (connection != null) {
        connection.received(chunk);
        return;
      }
      byte[] bytes = chunk.getBytes();
      int used;
      try {
        used = decoder.feed(bytes, 0, bytes.length);
      } catch (ProxyHeaderDecoder.MalformedHeaderException e) {
        System.err.println(">>> malformed PROXY protocol header: " + e.getMessage() + ": connection dropped");
        dropped.run();
        return;
      }
      ProxyHeader header = decoder.header();
      if (header == null) {
        return;
      }
      String proxy = hostCheck.remoteAddress();
      int proxyPort = hostCheck.remotePort();
      SessionOpen facts = SessionOpen.hostCheck(SESSION_ID, header.clientAddress(proxy), header.clientPort(proxyPort),
          hostCheck.localAddress(), hostCheck.localPort(), hostCheck.remoteName()).withProxy(header.session(proxy, proxyPort));
      System.err.println(">>> PROXY v" + header.version() + " header: $sender_host_address=" + facts.remoteAddress()
          + " $sender_host_port=" + facts.remotePort() + " $proxy_local_address=" + facts.proxy().localAddress()
          + " $proxy_local_port=" + facts.proxy().localPort() + " $proxy_external_address="
          + facts.proxy().externalAddress() + " $proxy_external_port=" + facts.proxy().externalPort());
      connection = open.apply(facts);
      connection.start();
      if (used < bytes.length) {
        connection.received(Buffer.buffer().appendBytes(bytes, used, bytes.length - used));
      }
    }

    void ended() {
      if (connection != null) {
        connection.endOfInput();
      } else {
        System.err.println(">>> input ended before a complete PROXY protocol header: connection dropped");
        dropped.run();
      }
    }
  }

  /** Writes replies to stdout off the event loop: a slow reader must not stall the session. */
  static final class StdoutWriter implements Consumer<String> {
    private final ExecutorService out = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "postern-stdout");
      t.setDaemon(true);
      return t;
    });
    private final PrintStream stream = System.out;

    @Override
    public void accept(String text) {
      out.execute(() -> {
        stream.print(text);
        stream.flush();
      });
    }

    /** Waits until everything written so far has reached stdout. */
    void drain() throws InterruptedException {
      out.shutdown();
      out.awaitTermination(10, TimeUnit.SECONDS);
    }
  }
}
