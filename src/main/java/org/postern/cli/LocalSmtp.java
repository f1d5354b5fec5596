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
