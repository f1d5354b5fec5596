package org.postern.listener;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import org.postern.bus.AclStage;
import org.postern.bus.Addresses;
import org.postern.bus.EnqueueRequest;
import org.postern.bus.CloseReason;
import org.postern.bus.InstanceDirectory;
import org.postern.bus.LocalDeliveryReply;
import org.postern.bus.LocalDeliveryRequest;
import org.postern.bus.SessionAction;
import org.postern.bus.SessionAddresses;
import org.postern.bus.SessionClose;
import org.postern.bus.SessionCommand;
import org.postern.bus.SessionData;
import org.postern.bus.SessionFilters;
import org.postern.bus.SessionOpen;
import org.postern.bus.SessionResponse;
import org.postern.bus.SessionTls;
import org.postern.config.PosternConfig;
import org.postern.log.MainLog;
import org.postern.smtp.CommandLineLimits;
import org.postern.smtp.Replies;
import org.postern.smtp.SmtpReply;
import org.postern.spool.Envelope;
import org.postern.spool.SpoolWriter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * One SMTP connection's I/O: frames bytes with {@link SmtpLineDecoder}, hands each command to the
 * session state machine over the event bus strictly in order, batches the replies of a pipelined
 * group into one write, streams DATA and BDAT chunks into the spool and commits the message before
 * the 250. It decides no policy: every reply comes from the session. It talks to one session
 * instance for its whole life, the one on its own event loop when there is one
 * ({@link InstanceDirectory}), and tells it at the end why the connection closed.
 */
public final class SmtpConnection {
  private static final Logger LOG = LoggerFactory.getLogger(SmtpConnection.class);
  /** Undecoded input above this is more than any legal pipelined group: stop reading until it drains. */
  private static final int MAX_BUFFERED = 64 * 1024;
  /**
   * The options of every request to the session: never changed once built, so one instance serves
   * all connections instead of one more object each (issue 15, memory per idle session).
   */
  private static final DeliveryOptions SESSION_BUS = new DeliveryOptions().setLocalOnly(true).setSendTimeout(120_000);
  /** The enqueue notice after a commit; {@code -bs} waits for the reply, up to this long. */
  private static final DeliveryOptions ENQUEUE_BUS = new DeliveryOptions().setLocalOnly(true).setSendTimeout(600_000);
  private static final DeliveryOptions CLOSE_BUS = new DeliveryOptions().setLocalOnly(true);
  private static final SmtpReply TLS_UNAVAILABLE = SmtpReply.of(454, "4.7.0", "TLS not available due to local problem");

  private final Vertx vertx;
  private final SmtpChannel channel;
  private final SessionOpen facts;
  private final SpoolContext spool;
  private final PosternConfig config;
  /** Finds the MIME parts while DATA streams, when a MIME ACL will want them. */
  private MimeScanner mime;
  private final boolean enforceSync;
  /** {@code -bh}: replies as for real, but an accepted message is dropped instead of committed. */
  private final boolean hostCheck;
  private final SmtpLineDecoder decoder;
  private final String id;
  /** The session instance's addresses, chosen at {@link #start()}. */
  private SessionAddresses session;
  private final List<Future<?>> deliveries;
  /** Replies not yet written; null while there are none (most of a connection's life). */
  private Buffer output;
  private boolean greeted;
  private boolean busy = true;
  private boolean closed;
  /**
   * A STARTTLS handshake began and has not succeeded: if the client goes away now, that is why
   * (Exim's {@code tls-failed}), whether the failure or the close is seen first.
   */
  private boolean tlsFailed;
  private boolean paused;
  private SpoolWriter writer;
  private HeaderSection headers;
  private boolean tooBig;
  private long contentSize;
  private long sizeLimit;
  /** When the line being waited for began: the last line end, or when the connection became ready to read. */
  private long lineStart = System.nanoTime();
  /** The decoder's line count when {@link #lineStart} was last moved. */
  private long lineEndsSeen;
  /** True from the 354 to the final dot, and through each BDAT chunk: {@link #dataStart} bounds the content then. */
  private boolean dataTimed;
  /** The BDAT being read (its chunk follows it), or null. */
  private SessionResponse chunk;
  private long dataStart;
  private long timer = -1;
  private Runnable onClose = () -> { };
  private boolean flushEachReply;
  private boolean inputEnded;
  private Runnable onInputExhausted = () -> { };
  private String lastCommand = "";

  /**
   * @param facts the connection facts the session opens with
   * @param trackDeliveries keep the first delivery attempt of each committed message, for
   *                        {@code -bs}/{@code -bS} to wait on before exiting
   */
  public SmtpConnection(Vertx vertx, SmtpChannel channel, SessionOpen facts, SpoolContext spool,
                        PosternConfig config, boolean trackDeliveries) {
    this.vertx = vertx;
    this.channel = channel;
    this.id = facts.id();
    this.facts = facts;
    this.spool = spool;
    this.config = config;
    this.hostCheck = facts.hostCheck();
    this.enforceSync = config.smtpEnforceSync() && !facts.local() && !hostCheck;
    // Frame the longest line any verb may get (RFC 3461: RCPT +500...); the session holds each
    // verb to its own limit for this client.
    this.decoder = new SmtpLineDecoder(CommandLineLimits.ceiling(config.commandLineMax()));
    this.deliveries = trackDeliveries ? new ArrayList<>() : null;
  }

  public String id() {
    return id;
  }

  /** Runs once when the connection is finished, whichever side ended it. */
  public void onClose(Runnable action) {
    this.onClose = action;
  }

  /** Writes each reply on its own instead of batching a pipelined group's replies ({@code -bS} reacts per reply). */
  public void flushEachReply(boolean on) {
    this.flushEachReply = on;
  }

  /** The last command line read, for error reports. */
  public String lastCommand() {
    return lastCommand;
  }

  /** True while message content is being received. */
  public boolean inData() {
    return writer != null;
  }

  /** Ends the session from the outside: {@code -bS} stops at its first error. */
  public void stop() {
    shutdown(CloseReason.BATCH_ERROR);
  }

  /** The server is shutting down: 421 and close (Exim's answer to SIGTERM). */
  public void serverShutdown() {
    if (!closed) {
      abortMessage();
      write(Replies.SERVICE_SHUTDOWN);
      shutdown(CloseReason.SIGNAL_EXIT);
    }
  }

  /** First delivery attempts of the messages this connection committed (when tracked). */
  public List<Future<?>> deliveries() {
    return deliveries == null ? List.of() : deliveries;
  }

  /** Opens the session (on the session instance of this event loop): connect ACL, then the greeting. */
  public void start() {
    armTimer();
    session = InstanceDirectory.<SessionAddresses>of(vertx, Addresses.SESSION)
        .forContext(vertx.getOrCreateContext());
    if (session == null) {
      fail(new IllegalStateException("no session verticle is deployed"));
      return;
    }
    request(session.open(), facts, greeting -> {
      if (enforceSync && decoder.buffered() > 0) {
        // Talking before the banner: a bot that does not wait for replies (smtp_enforce_sync).
        MainLog.writeRejection("SMTP protocol synchronization error (input sent without waiting for greeting): rejected "
            + "connection from H=[" + facts.remoteAddress() + "]");
        write(Replies.SYNC_ERROR);
        shutdown(CloseReason.SYNCHRONIZATION_ERROR);
        return;
      }
      greeted = true;
      handleResponse(greeting);
    });
  }

  /** Bytes from the client. */
  public void received(Buffer bytes) {
    if (closed) {
      return;
    }
    decoder.feed(bytes);
    if (decoder.buffered() > MAX_BUFFERED && !paused) {
      paused = true;
      channel.pause();
    }
    if (greeted) {
      pump();
    }
  }

  /**
   * The input ended ({@code -bs}, {@code -bS}): what was already read is still processed, in
   * order; then the session ends as if the client had gone away.
   */
  public void endOfInput() {
    inputEnded = true;
    if (greeted && !busy) {
      pump();
    }
  }

  /** Runs when the input has ended and everything read before has been processed. */
  public void onInputExhausted(Runnable action) {
    this.onInputExhausted = action;
  }

  /** The client went away. */
  public void disconnected() {
    if (closed) {
      return;
    }
    if (writer != null) {
      MainLog.write("unexpected disconnection while reading SMTP data from " + hostForLog()
          + ": message not accepted");
    }
    shutdown(tlsFailed ? CloseReason.TLS_FAILED : CloseReason.CONNECTION_LOST);
  }

  private void pump() {
    while (!busy && !closed) {
      SmtpLineDecoder.Event event = decoder.next();
      if (event == null) {
        flush();
        if (inputEnded) {
          onInputExhausted.run();
          disconnected();
          return;
        }
        if (paused && decoder.buffered() < MAX_BUFFERED / 2 && (writer == null || !writer.backlogged())) {
          paused = false;
          channel.resume();
        }
        return;
      }
      handle(event);
      if (decoder.lineEnds() != lineEndsSeen) {
        lineEndsSeen = decoder.lineEnds();
        lineStart = System.nanoTime();
      }
    }
  }

  private void handle(SmtpLineDecoder.Event event) {
    if (event instanceof SmtpLineDecoder.Line line) {
      lastCommand = line.content().toString(StandardCharsets.UTF_8);
      command(SessionCommand.line(id, lastCommand, line.bareLf()));
    } else if (event instanceof SmtpLineDecoder.DataChunk chunk) {
      content(chunk.content());
    } else if (event instanceof SmtpLineDecoder.DataEnd) {
      endOfData();
    } else if (event instanceof SmtpLineDecoder.ChunkEnd) {
      chunkEnd();
    } else {
      command(SessionCommand.tooLong(id));
    }
  }

  private void command(SessionCommand request) {
    busy = true;
    request(session.command(), request, this::handleResponse);
  }

  private void content(Buffer chunk) {
    if (this.chunk != null && !this.chunk.chunk().store()) {
      // A refused BDAT: its chunk is read so the stream stays in step, and dropped.
      return;
    }
    contentSize += chunk.length();
    if (tooBig || contentSize > sizeLimit) {
      // Keep reading to the final dot (the chunk's end) so the session stays usable, but store nothing more.
      tooBig = true;
      return;
    }
    writer.write(chunk);
    headers.add(chunk);
    if (mime != null) {
      mime.add(chunk);
    }
    if (writer.backlogged() && !paused) {
      paused = true;
      channel.pause();
      busy = true;
      writer.drained().onComplete(r -> {
        ready();
        pump();
      });
    }
  }

  private void endOfData() {
    busy = true;
    dataTimed = false;
    if (chunk != null) {
      // The last chunk need not end its line; the message stored does.
      chunk = null;
      String completion = decoder.lineCompletion();
      if (!completion.isEmpty()) {
        content(Buffer.buffer(completion));
      }
    }
    SessionData request = new SessionData(id, writer.id(), contentSize, tooBig, decoder.sawBareLf(),
        decoder.sawBareCr(), headers.value("Message-ID"), headers.text(),
        mime != null && !tooBig ? mime.parts() : null, headers.received());
    mime = null;
    // A session filter (a milter) reads the content from the data file: write it out first.
    if (SessionFilters.of(vertx).isEmpty()) {
      request(session.data(), request, this::handleResponse);
      return;
    }
    writer.flush().onComplete(r -> {
      if (r.failed()) {
        fail(r.cause());
      } else {
        request(session.data(), request, this::handleResponse);
      }
    });
  }

  private void handleResponse(SessionResponse response) {
    if (closed) {
      return;
    }
    if (response.action() == SessionAction.CHUNK) {
      // The chunk follows the command at once: the reply, and any synchronization check, wait for its end.
      readChunk(response);
      return;
    }
    String reply = response.reply().render();
    if (enforceSync && response.syncPoint() && decoder.buffered() > 0) {
      MainLog.writeRejection("SMTP protocol synchronization error (next input sent too soon: pipelining was not advertised"
          + " or the command ends a group): rejected from " + hostForLog());
      abortMessage();
      write(Replies.SYNC_ERROR);
      shutdown(CloseReason.SYNCHRONIZATION_ERROR);
      return;
    }
    String log = response.log();
    switch (response.action()) {
      case CLOSE -> {
        abortMessage();
        if (log != null) {
          MainLog.write(log);
        }
        append(reply);
        shutdown(response.closeReason());
      }
      case DATA -> startData(response.dataStart(), reply);
      case COMMIT -> {
        if (hostCheck) {
          abortMessage();
          System.err.println("**** SMTP testing (-bh): the message was accepted but is not kept or delivered");
          resumeWith(reply);
          return;
        }
        commit(response.commit(), reply, log);
      }
      case STARTTLS -> startTls(reply);
      case ABORT, DISCARD -> {
        abortMessage();
        if (log != null) {
          MainLog.write(log);
        }
        resumeWith(reply);
      }
      case CONTINUE -> {
        if (log != null) {
          MainLog.write(log);
        }
        if (response.lineLimit() > 0) {
          // A SASL exchange takes longer lines (RFC 4954: 12288 octets) until it ends.
          decoder.maxLineLength(response.lineLimit());
        }
        resumeWith(reply);
      }
    }
  }

  /** 354: the content streams into a new spool file, behind the Received header. */
  private void startData(SessionResponse.DataStart data, String reply) {
    openMessage(data);
    decoder.startData();
    dataTimed = true;
    dataStart = System.nanoTime();
    append(reply);
    flush();
    resumeWith(null);
  }

  /** A new spool file for the message DATA or the first BDAT chunk starts, behind the Received header. */
  private void openMessage(SessionResponse.DataStart data) {
    writer = new SpoolWriter(spool.workers(), spool.spool(), data.messageId());
    headers = new HeaderSection();
    mime = config.aclForStage(AclStage.MIME) != null ? new MimeScanner() : null;
    writer.writePrefix(Buffer.buffer(data.received(), "UTF-8"));
    sizeLimit = data.sizeLimit();
    contentSize = 0;
    tooBig = false;
    decoder.normalizeBareLineEnds(data.normalizeBareLineEnds());
  }

  /**
   * BDAT: the chunk that follows is read in CHUNK mode, into the message (the same path as DATA's
   * content: size limit, header scan, MIME parts, back-pressure) or, for a refused command, to be
   * dropped. {@code smtp_data_timeout} bounds each chunk.
   */
  private void readChunk(SessionResponse response) {
    SessionResponse.Chunk facts = response.chunk();
    chunk = response;
    boolean first = facts.start() != null;
    if (first) {
      openMessage(facts.start());
    }
    decoder.startChunk(facts.octets(), first);
    dataTimed = true;
    dataStart = System.nanoTime();
    resumeWith(null);
  }

  /**
   * The chunk was read. The end of the last one, or of one that took the message past
   * {@code message_size_limit} (RFC 3030 4.2: refused at once, 552), is the end of DATA; for any
   * other the session's reply goes out now.
   */
  private void chunkEnd() {
    SessionResponse response = chunk;
    SessionResponse.Chunk facts = response.chunk();
    if (facts.store() && (facts.last() || tooBig)) {
      endOfData();
      return;
    }
    chunk = null;
    dataTimed = false;
    handleResponse(new SessionResponse(response.reply(), SessionAction.CONTINUE, response.syncPoint(), null, response.log()));
  }

  /**
   * The message is accepted. Still all in memory ({@code local_delivery_before_ack}): the queue is
   * asked to deliver it into its maildirs now, and decides whether it may; delivered, the 250 goes
   * out with nothing spooled. Otherwise (not eligible, partly delivered, no answer) it is committed
   * to the spool (fsync) before the 250, then queued, as Exim always does.
   */
  private void commit(SessionResponse.Commit commit, String reply, String log) {
    SpoolWriter w = writer;
    writer = null;
    Buffer lateHeaders = Buffer.buffer(commit.lateHeaders(), "UTF-8");
    // The two switches that rule out immediate delivery for every message are read here, to save the
    // request; whether this message qualifies is for the queue alone (it knows the routers).
    Buffer content = config.delivery().localDeliveryBeforeAck() && !config.queueOnly() ? w.inMemory(lateHeaders) : null;
    if (content == null) {
      spoolCommit(w, commit.envelope(), lateHeaders, commit.queueOnly(), reply, log, List.of());
      return;
    }
    LocalDeliveryRequest offer = new LocalDeliveryRequest(commit.envelope(), content, commit.queueOnly(), log);
    vertx.eventBus().<LocalDeliveryReply>request(Addresses.QUEUE_DELIVER_LOCAL, offer, ENQUEUE_BUS).onComplete(r -> {
      LocalDeliveryReply answer = r.succeeded() ? r.result().body() : LocalDeliveryReply.NOT_ELIGIBLE_REPLY;
      switch (answer.outcome()) {
        case DELIVERED -> {
          // In every maildir and logged by the queue: the spool never saw it.
          w.release();
          if (deliveries != null) {
            deliveries.add(Future.succeededFuture());
          }
          resumeWith(reply);
        }
        case PARTIAL -> spoolCommit(w, answer.envelope(), lateHeaders, commit.queueOnly(), reply, log, answer.log());
        case NOT_ELIGIBLE -> spoolCommit(w, commit.envelope(), lateHeaders, commit.queueOnly(), reply, log, List.of());
      }
    });
  }

  /**
   * Commits the message to the spool (fsync) before the 250 goes out, then queues it. {@code delivered}
   * holds the {@code =>} lines of deliveries made before the commit: they follow the {@code <=} line.
   */
  private void spoolCommit(SpoolWriter w, Envelope envelope, Buffer lateHeaders, boolean queueOnly, String reply,
                           String log, List<String> delivered) {
    w.commit(envelope, lateHeaders).onComplete(r -> {
      if (r.succeeded()) {
        MainLog.write(log);
        delivered.forEach(MainLog::write);
        EnqueueRequest notice = new EnqueueRequest(envelope.id(), queueOnly);
        if (deliveries != null) {
          deliveries.add(vertx.eventBus().request(Addresses.QUEUE_ENQUEUE, notice, ENQUEUE_BUS));
        } else {
          // Nobody waits for the first delivery attempt: a notice, not a request, so no reply
          // handler, timer or reply message (a second hop between event loops) per message.
          vertx.eventBus().send(Addresses.QUEUE_ENQUEUE, notice, ENQUEUE_BUS);
        }
        resumeWith(reply);
      } else {
        LOG.error("spool commit of {} failed", envelope.id(), r.cause());
        // Mailboxes written before the commit keep their copy, and the client will send the message
        // again after the 451: the log says so, rather than leave a file no line accounts for.
        delivered.forEach(MainLog::write);
        MainLog.write(envelope.id() + " spool write failed: " + r.cause().getMessage() + "; 451 to " + hostForLog());
        w.abort();
        resumeWith(Replies.TEMPORARY_LOCAL_ERROR.render());
      }
    });
  }

  /**
   * RFC 3207: the 220 goes out with the upgrade (written after the socket is paused, so it cannot
   * race the ClientHello), whatever the client sent after STARTTLS is discarded, and the session
   * learns the outcome before the next command is read.
   */
  private void startTls(String reply) {
    decoder.discardBuffered();
    flush();
    busy = true;
    tlsFailed = true;
    channel.startTls(Buffer.buffer(reply)).onComplete(r -> {
      if (closed) {
        return;
      }
      if (r.failed()) {
        boolean unavailable = r.cause().getMessage() != null && r.cause().getMessage().contains("unavailable");
        if (unavailable) {
          tlsFailed = false;
          resumeWith(TLS_UNAVAILABLE.render());
          return;
        }
        ConnectionErrorLog.of(vertx).write(facts.remoteAddress(), "TLS error on connection from "
            + hostForLog() + " (handshake failed): " + TlsErrors.describe(r.cause()), config.connectionErrorLogRate());
        vertx.eventBus().request(session.tls(), SessionTls.failed(id), SESSION_BUS)
            .onComplete(x -> resumeWith(null));
        return;
      }
      tlsFailed = false;
      decoder.discardBuffered();
      vertx.eventBus().request(session.tls(), SessionTls.started(id, r.result()), SESSION_BUS).onComplete(x -> {
        if (x.failed()) {
          fail(x.cause());
        } else {
          resumeWith(null);
        }
      });
    });
  }

  private void resumeWith(String reply) {
    if (closed) {
      return;
    }
    if (reply != null) {
      append(reply);
      if (flushEachReply) {
        flush();
      }
    }
    ready();
    pump();
  }

  /** The connection waits for the client again: the next line's deadline starts now. */
  private void ready() {
    busy = false;
    lineStart = System.nanoTime();
  }

  private void abortMessage() {
    dataTimed = false;
    if (writer != null) {
      writer.abort();
      writer = null;
    }
  }

  /** A request to the session; its response goes to {@code then}, a failure ends the connection. */
  private void request(String address, Object body, Handler<SessionResponse> then) {
    // onComplete on the request itself: a mapped future per command was one more object and
    // one more completion to dispatch.
    vertx.eventBus().<SessionResponse>request(address, body, SESSION_BUS).onComplete(r -> {
      if (r.failed()) {
        fail(r.cause());
      } else {
        then.handle(r.result().body());
      }
    });
  }

  private void append(String reply) {
    if (output == null) {
      output = Buffer.buffer(reply.length() + 64);
    }
    output.appendString(reply);
  }

  private void write(SmtpReply reply) {
    append(reply.render());
  }

  private void flush() {
    if (output != null && !closed) {
      // Swap first: the channel may react to a reply by stopping the session (-bS), re-entering here.
      Buffer out = output;
      output = null;
      channel.write(out);
    }
  }

  private void fail(Throwable cause) {
    LOG.error("session {}: {}", id, cause.toString());
    write(Replies.TEMPORARY_LOCAL_ERROR.withText("Temporary local problem - please try later"));
    shutdown(CloseReason.INTERNAL_ERROR);
  }

  /** Sends what is pending, closes, and tells the session why. */
  private void shutdown(CloseReason reason) {
    if (closed) {
      return;
    }
    flush();
    closed = true;
    abortMessage();
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    channel.close();
    if (session != null) {
      vertx.eventBus().send(session.close(), new SessionClose(id, reason), CLOSE_BUS);
    }
    onClose.run();
  }

  /**
   * One timer per connection, re-armed for the nearest deadline. Exim's {@code smtp_receive_timeout}
   * is a deadline per line: a client trickling a byte at a time must still finish each command or
   * data line in time, so bytes that end no line move nothing. The time the connection spends
   * waiting on the session or the spool is not the client's, so no line deadline runs while busy.
   * {@code smtp_data_timeout} bounds the whole content, which complete lines alone never would.
   */
  private void armTimer() {
    long now = System.nanoTime();
    long lineTimeout = config.smtpReceiveTimeout().toNanos();
    long remaining = busy ? lineTimeout : lineTimeout - (now - lineStart);
    if (dataTimed) {
      remaining = Math.min(remaining, config.smtpDataTimeout().toNanos() - (now - dataStart));
    }
    if (remaining <= 0) {
      if (!closed) {
        boolean data = decoder.mode() != SmtpLineDecoder.Mode.COMMAND;
        CloseReason reason = data ? CloseReason.DATA_TIMEOUT : CloseReason.COMMAND_TIMEOUT;
        MainLog.write("SMTP " + (data ? "data" : "command") + " timeout on connection from " + hostForLog());
        abortMessage();
        write(Replies.TIMEOUT);
        shutdown(reason);
      }
      return;
    }
    timer = vertx.setTimer(Math.max(1, remaining / 1_000_000), t -> armTimer());
  }

  private String hostForLog() {
    return facts.local() ? "U=local" : "[" + facts.remoteAddress() + "]:" + facts.remotePort();
  }
}
