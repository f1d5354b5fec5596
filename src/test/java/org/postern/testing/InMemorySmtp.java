package org.postern.testing;

import io.vertx.core.Context;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.postern.config.ConfigHolder;
import org.postern.config.PosternConfig;
import org.postern.listener.SmtpChannel;
import org.postern.bus.SessionOpen;
import org.postern.listener.SmtpConnection;
import org.postern.listener.SpoolContext;
import org.postern.spool.Spool;
import org.postern.testing.SmtpTestClient.Reply;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One SMTP session with no socket: the real {@link SmtpConnection} (line framing, pipelining,
 * DATA into the spool) over an in-memory {@link SmtpChannel}, talking to the config, ACL, auth
 * and session verticles of a {@link PosternTestServer#startSessions()} server, as {@code -bs}
 * does over stdin. The client's address is whatever the test says, so policy for any host can be
 * tested from one machine.
 *
 * <p>Every reply is awaited as an event (the channel's write), parsed as strictly as
 * {@link SmtpTestClient} parses the wire; the channel being closed is an event too.
 */
public final class InMemorySmtp implements SmtpClientSide {
  private static final AtomicInteger SESSIONS = new AtomicInteger();
  private static final long WAIT_MS = 10_000;

  private final Context context;
  private final LinkedBlockingQueue<Reply> replies = new LinkedBlockingQueue<>();
  private final CompletableFuture<Void> closed = new CompletableFuture<>();
  private final SmtpConnection connection;
  private final int port;
  private final Spool spool;

  private InMemorySmtp(PosternTestServer server, int number, JsonObject facts) {
    PosternConfig config = ConfigHolder.of(server.vertx()).current();
    this.spool = new Spool(config.spoolDirectory());
    this.context = server.vertx().getOrCreateContext();
    this.port = facts.getInteger("remote_port");
    SmtpChannel channel = new SmtpChannel() {
      @Override
      public void write(Buffer data) {
        parse(data);
      }

      @Override
      public void close() {
        closed.complete(null);
      }

      @Override
      public void pause() {
      }

      @Override
      public void resume() {
      }
    };
    this.connection = new SmtpConnection(server.vertx(), channel,
        SessionOpen.fromJson(facts.copy().put("id", "mem-" + number)), SpoolContext.of(server.vertx(), spool), config,
        false);
    context.runOnContext(v -> connection.start());
  }

  /** A session from 127.0.0.1 (a relay host of the test configuration). */
  public static InMemorySmtp connect(PosternTestServer server) throws IOException {
    return connectFrom(server, "127.0.0.1");
  }

  /** A session from {@code address}, to the {@code smtp} listener's 127.0.0.1:25. */
  public static InMemorySmtp connectFrom(PosternTestServer server, String address) throws IOException {
    return open(server, new JsonObject().put("remote_address", address));
  }

  /**
   * A session with these connection facts ({@code remote_address}, and as the listener gives them:
   * {@code starttls_available}, {@code tls}, ...); the port, interface and listener default to a
   * fresh client port on 127.0.0.1:25 of {@code smtp}.
   */
  public static InMemorySmtp open(PosternTestServer server, JsonObject facts) throws IOException {
    int number = SESSIONS.incrementAndGet();
    JsonObject all = new JsonObject().put("remote_port", 40_000 + number % 20_000)
        .put("local_address", "127.0.0.1").put("local_port", 25).put("listener", "smtp").mergeIn(facts);
    new Spool(ConfigHolder.of(server.vertx()).current().spoolDirectory()).create();
    return new InMemorySmtp(server, number, all);
  }

  /** The client port this session claims: it tells its main-log lines apart. */
  public int port() {
    return port;
  }

  @Override
  public void send(String text) {
    sendRaw(text.getBytes(StandardCharsets.UTF_8));
  }

  /** Sends bytes exactly as given (half lines, several commands, bare LFs). */
  @Override
  public void sendRaw(byte[] bytes) {
    Buffer buffer = Buffer.buffer(bytes);
    context.runOnContext(v -> connection.received(buffer));
  }

  /** Sends one command line (CRLF added) and awaits its reply. */
  public Reply command(String line) throws IOException {
    send(line + "\r\n");
    return reply();
  }

  /** The next reply, as soon as it is written. */
  @Override
  public Reply reply() throws IOException {
    Reply r;
    try {
      r = replies.poll(WAIT_MS, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
    if (r == null) {
      throw new IOException(closed.isDone() ? "connection closed" : "no reply within " + WAIT_MS + " ms");
    }
    return r;
  }

  /** True once the session closed the channel, waiting up to {@code within} for it. */
  @Override
  public boolean closedByServer(java.time.Duration within) throws Exception {
    try {
      closed.get(within.toMillis(), TimeUnit.MILLISECONDS);
      return true;
    } catch (TimeoutException e) {
      return false;
    }
  }

  /** True when nothing is in the spool: the session accepted no message (nothing delivers in this tier). */
  public boolean spoolEmpty() throws IOException {
    try (var files = java.nio.file.Files.list(spool.inputDirectory())) {
      return files.findAny().isEmpty();
    }
  }

  private void parse(Buffer data) {
    ByteArrayInputStream in = new ByteArrayInputStream(data.getBytes());
    try {
      while (in.available() > 0) {
        replies.add(SmtpTestClient.readReply(in));
      }
    } catch (IOException e) {
      // A malformed reply fails the test that waits for it.
      replies.add(new Reply(0, java.util.List.of("malformed reply: " + e.getMessage())));
    }
  }

  /** The client goes away, if the session has not ended. */
  @Override
  public void close() throws Exception {
    if (!closed.isDone()) {
      context.runOnContext(v -> connection.disconnected());
      closed.get(WAIT_MS, TimeUnit.MILLISECONDS);
    }
  }
}
