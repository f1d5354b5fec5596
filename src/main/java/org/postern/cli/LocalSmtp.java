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
    if (hostCheck != null && config.proxy().required(hostCheck.remoteAddress())) {
      return new ProxiedHostCheck(in, batch, replies, atEndOfInput).run();
    }
    SessionOpen facts = hostCheck == null ? SessionOpen.local(SESSION_ID, batch) : hostCheck;
    StdinReader[] reader = new StdinReader[1];
    return session(facts, batch, replies, new Input() {
      @Override
      public void start(Context context, SmtpConnection connection) {
        reader[0] = new StdinReader(in, context, connection::received, connection::endOfInput);
        connection.onInputExhausted(() -> atEndOfInput.accept(connection));
        reader[0].start();
      }

      @Override
      public void pause() {
        reader[0].pause();
      }

      @Override
      public void resume() {
        reader[0].resume();
      }

      @Override
      public void stop() {
        reader[0].stop();
      }
    });
  }

  /**
   * A session whose input a program writes, one step per reply (the sendmail front end): after
   * each reply {@code driver} gets the connection and the reply text, and feeds the next input
   * with {@link SmtpConnection#received} or ends it with {@link SmtpConnection#endOfInput}.
   */
  Future<SmtpConnection> drive(SessionOpen facts, BiConsumer<SmtpConnection, String> driver) {
    Context[] context = new Context[1];
    return session(facts, false, (connection, reply) ->
        // Not inside the reply's write: the session takes the next command after this one ended.
        context[0].runOnContext(v -> driver.accept(connection, reply)), new Input() {
          @Override
          public void start(Context c, SmtpConnection connection) {
            context[0] = c;
          }
        });
  }

  /** Where a local session's input comes from, and its flow control. */
  private interface Input {
    void start(Context context, SmtpConnection connection);

    default void pause() {
    }

    default void resume() {
    }

    default void stop() {
    }
  }

  private Future<SmtpConnection> session(SessionOpen facts, boolean batch, BiConsumer<SmtpConnection, String> replies,
                                         Input input) {
    Context context = vertx.getOrCreateContext();
    Promise<SmtpConnection> done = Promise.promise();
    context.runOnContext(v -> {
      SpoolContext spool = SpoolContext.of(vertx, new Spool(config.spoolDirectory()));
      SmtpConnection[] self = new SmtpConnection[1];
      SmtpChannel channel = new SmtpChannel() {
        @Override
        public void write(Buffer data) {
          replies.accept(self[0], data.toString());
        }

        @Override
        public void close() {
          input.stop();
        }

        @Override
        public void pause() {
          input.pause();
        }

        @Override
        public void resume() {
          input.resume();
        }
      };
      SmtpConnection connection = new SmtpConnection(vertx, channel, facts, spool, config, true);
      self[0] = connection;
      connection.flushEachReply(batch);
      connection.onClose(() -> Future.join(connection.deliveries()).onComplete(r -> done.complete(self[0])));
      connection.start();
      // Input starts after the session: bytes buffered before the greeting are a synchronisation error.
      input.start(context, connection);
    });
    return done.future();
  }

  /**
   * {@code -bh} from a {@code hosts_proxy} host, as in Exim: a PROXY header (v1 or v2) comes first
   * on stdin, then the session runs as from the client it names, with the {@code $proxy_*}
   * variables set; a malformed or missing header ends it before the greeting, as the daemon drops
   * the connection.
   */
  private final class ProxiedHostCheck implements Input {
    private final ProxyHeaderDecoder decoder = new ProxyHeaderDecoder();
    private final InputStream in;
    private final boolean batch;
    private final BiConsumer<SmtpConnection, String> replies;
    private final Consumer<SmtpConnection> atEndOfInput;
    private final Promise<SmtpConnection> done = Promise.promise();
    /** What came after the header before the session was ready for it. */
    private final Buffer pending = Buffer.buffer();
    private StdinReader reader;
    private SmtpConnection connection;
    private boolean ended;

    ProxiedHostCheck(InputStream in, boolean batch, BiConsumer<SmtpConnection, String> replies,
                     Consumer<SmtpConnection> atEndOfInput) {
      this.in = in;
      this.batch = batch;
      this.replies = replies;
      this.atEndOfInput = atEndOfInput;
    }

    Future<SmtpConnection> run() {
      System.err.println(">>> host in hosts_proxy: reading a PROXY protocol header (v1 or v2) from stdin");
      Context context = vertx.getOrCreateContext();
      context.runOnContext(v -> {
        reader = new StdinReader(in, context, this::received, this::ended);
        reader.start();
      });
      return done.future();
    }

    private void received(Buffer chunk) {
      if (connection != null) {
        connection.received(chunk);
        return;
      }
      if (decoder.header() != null) {
        pending.appendBuffer(chunk);
        return;
      }
      byte[] bytes = chunk.getBytes();
      int used;
      try {
        used = decoder.feed(bytes, 0, bytes.length);
      } catch (ProxyHeaderDecoder.MalformedHeaderException e) {
        dropped("malformed PROXY protocol header: " + e.getMessage());
        return;
      }
      ProxyHeader header = decoder.header();
      if (header == null) {
        return;
      }
      pending.appendBytes(bytes, used, bytes.length - used);
      String proxy = hostCheck.remoteAddress();
      int proxyPort = hostCheck.remotePort();
      SessionOpen facts = SessionOpen.hostCheck(SESSION_ID, header.clientAddress(proxy), header.clientPort(proxyPort),
          hostCheck.localAddress(), hostCheck.localPort(), hostCheck.remoteName()).withProxy(header.session(proxy, proxyPort));
      System.err.println(">>> PROXY v" + header.version() + " header: $sender_host_address=" + facts.remoteAddress()
          + " $sender_host_port=" + facts.remotePort() + " $proxy_local_address=" + facts.proxy().localAddress()
          + " $proxy_local_port=" + facts.proxy().localPort() + " $proxy_external_address="
          + facts.proxy().externalAddress() + " $proxy_external_port=" + facts.proxy().externalPort());
      reader.pause();
      session(facts, batch, replies, this).onComplete(done);
    }

    private void ended() {
      if (connection != null) {
        connection.endOfInput();
      } else if (decoder.header() != null) {
        ended = true;
      } else {
        dropped("input ended before a complete PROXY protocol header");
      }
    }

    private void dropped(String why) {
      // Once: the reader reports the end of input after it is stopped.
      if (done.future().isComplete()) {
        return;
      }
      System.err.println(">>> " + why + ": connection dropped");
      reader.stop();
      done.complete(null);
    }

    @Override
    public void start(Context context, SmtpConnection c) {
      connection = c;
      c.onInputExhausted(() -> atEndOfInput.accept(c));
      if (pending.length() > 0) {
        c.received(pending);
      }
      if (ended) {
        c.endOfInput();
      }
      reader.resume();
    }

    @Override
    public void pause() {
      reader.pause();
    }

    @Override
    public void resume() {
      reader.resume();
    }

    @Override
    public void stop() {
      reader.stop();
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
