package org.postern.delivery.smtp;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.net.ConnectOptions;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import io.vertx.core.internal.net.NetSocketInternal;
import org.postern.bus.DeliveryStatus;
import org.postern.bus.RemoteHost;
import org.postern.config.ClientAuthenticator;
import org.postern.config.SmtpTransportOptions;
import org.postern.smtp.SmtpReply;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Arrays;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One outbound SMTP connection (the client side of the smtp transport): banner, EHLO (HELO when
 * EHLO is refused), STARTTLS by Exim's rules, AUTH where asked for, then any number of
 * {@link #send} calls and a {@link #quit}.
 *
 * <p>Every step has a timeout and every path ends: a future from this class always completes,
 * and a connection-level problem (timeout, reset, garbage) closes the socket and turns into a
 * deferral of the recipients still open. All work runs on the socket's event loop; public
 * methods may be called from any thread. Credentials are never logged: AUTH lines are logged as
 * {@code <hidden>}.
 */
public final class SmtpClientConnection {
  private static final Logger LOG = LoggerFactory.getLogger(SmtpClientConnection.class);
  private static final int READ_CHUNK = 64 * 1024;

  private final Vertx vertx;
  private final Context context;
  private final NetSocket socket;
  private final ReplyReader reader;
  private final RemoteHost host;
  private final SmtpTransportOptions options;
  private final ClientTls tls;
  /**
   * Opened for messages with {@code TLS-Required: No} (RFC 8689 5): the transport's TLS policy does
   * not stop the session, and only such messages may be sent on it.
   */
  private final boolean policyWaived;
  /** The session is below the TLS policy it was spared (in clear, or unverified): see {@link MessageResult#belowPolicy()}. */
  private boolean belowPolicy;
  private EhloCapabilities capabilities = EhloCapabilities.NONE;
  private TlsSummary tlsSummary;
  private String authenticator;
  private String tlsFallback;
  private boolean needsReset;
  private volatile int messages;
  private volatile String hostProblem;
  private Promise<Void> streaming;
  /** The last message went with BDAT (Exim's {@code K} on the delivery line). */
  private boolean chunked;

  private SmtpClientConnection(Vertx vertx, Context context, NetSocket socket, RemoteHost host,
                               SmtpTransportOptions options, ClientTls tls, boolean policyWaived) {
    this.vertx = vertx;
    this.policyWaived = policyWaived;
    this.context = context;
    this.socket = socket;
    this.host = host;
    this.options = options;
    this.tls = tls;
    this.reader = new ReplyReader(vertx);
    reader.onBreak(this::broken);
    socket.handler(reader::feed);
    socket.exceptionHandler(e -> reader.closed(e.getMessage()));
    socket.closeHandler(v -> reader.closed(null));
  }

  /**
   * Opens a connection, loading this transport's TLS set-up first (callers that open many
   * connections should load a {@link ClientTls} once and use the other overload).
   */
  public static Future<SmtpClientConnection> open(Vertx vertx, NetClient client, RemoteHost host,
                                                  SmtpTransportOptions options) {
    return ClientTls.load(vertx, options).recover(e -> Future.failedFuture(
            new HostDeferral("TLS client set-up failed: " + e.getMessage())))
        .compose(tls -> open(vertx, client, host, options, tls));
  }

  /**
   * Connects and gets the session ready for {@link #send}. Fails only with {@link HostDeferral}.
   * When STARTTLS fails and the host is not in {@code hosts_require_tls} (and
   * {@code tls_tempfail_tryclear} is on), retries once in clear on a new connection, as Exim does;
   * {@link #tlsFallback()} then says why.
   */
  public static Future<SmtpClientConnection> open(Vertx vertx, NetClient client, RemoteHost host,
                                                  SmtpTransportOptions options, ClientTls tls) {
    return open(vertx, client, host, options, tls, false);
  }

  /**
   * Connects as {@link #open(Vertx, NetClient, RemoteHost, SmtpTransportOptions, ClientTls)} does, or,
   * with {@code policyWaived}, for messages with {@code TLS-Required: No} (RFC 8689 5): STARTTLS is
   * still tried when offered, but neither {@code hosts_require_tls}, {@code tls_verify_hosts} nor
   * {@code tls_tempfail_tryclear} stops the session (an unverified certificate keeps TLS; a failed
   * handshake goes on in clear). Such a connection takes only such messages ({@link #send}).
   */
  public static Future<SmtpClientConnection> open(Vertx vertx, NetClient client, RemoteHost host,
                                                  SmtpTransportOptions options, ClientTls tls, boolean policyWaived) {
    boolean policyRequires = options.hostsRequireTls().matches(host.address(), host.name());
    boolean requireTls = policyRequires && !policyWaived;
    return attempt(vertx, client, host, options, tls, true, policyWaived).recover(e -> {
      if (e instanceof HostDeferral d && d.tlsFailure() && !requireTls
          && (options.tlsTempfailTryclear() || policyWaived) && !options.smtps()) {
        boolean below = policyRequires || !options.tlsTempfailTryclear();
        LOG.info("{}: {}; delivering unencrypted ({})", host, d.getMessage(),
            below ? "TLS-Required: No" : "not in hosts_require_tls");
        return attempt(vertx, client, host, options, tls, false, policyWaived).map(c -> {
          c.tlsFallback = d.getMessage();
          c.belowPolicy |= below;
          return c;
        });
      }
      return Future.failedFuture(e instanceof HostDeferral ? e : new HostDeferral(String.valueOf(e.getMessage())));
    });
  }

  private static Future<SmtpClientConnection> attempt(Vertx vertx, NetClient client, RemoteHost host,
                                                      SmtpTransportOptions options, ClientTls tls, boolean allowTls,
                                                      boolean policyWaived) {
    ConnectOptions connect = new ConnectOptions().setHost(host.address()).setPort(host.port())
        .setTimeout((int) Math.min(Integer.MAX_VALUE, options.connectTimeout().toMillis()));
    return client.connect(connect)
        .recover(e -> Future.failedFuture(new HostDeferral(connectFailure(e))))
        .compose(socket -> {
          SmtpClientConnection c = new SmtpClientConnection(vertx, vertx.getOrCreateContext(), socket, host, options,
              tls, policyWaived);
          Future<Void> session = options.smtps() ? c.implicitTls().compose(v -> c.startSession(false))
              : c.startSession(allowTls);
          return session.transform(ar -> {
            if (ar.succeeded()) {
              return Future.succeededFuture(c);
            }
            return c.abort().transform(x -> Future.failedFuture(ar.cause()));
          });
        });
  }

  /** The {@code X=}/{@code CV=}/{@code DN=} facts, or null when the session is in clear. */
  public TlsSummary tls() {
    return tlsSummary;
  }

  /** The client authenticator that succeeded ({@code A=}), or null. */
  public String authenticator() {
    return authenticator;
  }

  /** Why TLS was given up for this host (the connection then runs in clear), or null. */
  public String tlsFallback() {
    return tlsFallback;
  }

  public RemoteHost host() {
    return host;
  }

  /** Messages sent (or attempted) on this connection. */
  public int messages() {
    return messages;
  }

  /**
   * True while another message may be sent: no connection problem, the server has not closed the
   * connection, and fewer than {@code connection_max_messages} were sent.
   */
  public boolean usable() {
    return hostProblem == null && !reader.broken() && messages < options.connectionMaxMessages();
  }

  /**
   * Sends one message. Never fails: problems are in the result (per recipient, and
   * {@link MessageResult#hostProblem()} for the connection, which is then closed). One message at
   * a time: wait for the returned future before the next call.
   */
  public Future<MessageResult> send(OutboundMessage message) {
    Promise<MessageResult> result = Promise.promise();
    context.runOnContext(v -> sendOnContext(message).onComplete(ar -> result.complete(ar.succeeded() ? ar.result()
        : deferAll(message, ar.cause() instanceof HostDeferral d ? d.getMessage() : "internal error: " + ar.cause()))));
    return result.future();
  }

  /** Says QUIT (waiting at most {@code command_timeout} for the answer) and closes. Never fails. */
  public Future<Void> quit() {
    Promise<Void> done = Promise.promise();
    context.runOnContext(v -> {
      Future<?> bye = hostProblem == null ? command("QUIT", "QUIT", options.commandTimeout())
          : Future.succeededFuture();
      bye.onComplete(ar -> abort().onComplete(c -> done.complete()));
    });
    return done.future();
  }

  // ---------------------------------------------------------------------------------------------
  // Session set-up

  private Future<Void> startSession(boolean allowTls) {
    return reader.next("initial connection", options.commandTimeout())
        .compose(banner -> positive(banner, "initial connection"))
        .compose(v -> hello())
        .compose(v -> startTls(allowTls))
        .compose(v -> authenticate());
  }

  private Future<Void> hello() {
    String ehlo = "EHLO " + options.heloData();
    return command(ehlo, ehlo, options.commandTimeout()).compose(reply -> {
      if (reply.isPositive()) {
        capabilities = EhloCapabilities.of(reply);
        return Future.succeededFuture();
      }
      if (reply.isTransientFailure()) {
        return Future.failedFuture(smtpError(ehlo, reply));
      }
      capabilities = EhloCapabilities.NONE;
      String helo = "HELO " + options.heloData();
      return command(helo, helo, options.commandTimeout()).compose(r -> positive(r, helo));
    });
  }

  private Future<Void> startTls(boolean allowTls) {
    if (tlsSummary != null) {
      // protocol: smtps, encrypted from the start.
      return Future.succeededFuture();
    }
    boolean policyRequires = options.hostsRequireTls().matches(host.address(), host.name());
    boolean require = policyRequires && !policyWaived;
    boolean avoid = options.hostsAvoidTls().matches(host.address(), host.name());
    if (avoid || !allowTls) {
      return require ? Future.failedFuture(new HostDeferral("TLS session required but host is in hosts_avoid_tls"))
          : clear(policyRequires);
    }
    if (!capabilities.has("STARTTLS")) {
      return require ? Future.failedFuture(new HostDeferral("TLS session required but not offered"))
          : clear(policyRequires);
    }
    return command("STARTTLS", "STARTTLS", options.commandTimeout()).compose(reply -> {
      if (reply.code() != 220) {
        // Exim goes on in clear on the same connection unless TLS is required.
        return require ? Future.failedFuture(new HostDeferral("TLS session required but STARTTLS refused: "
            + describe(reply))) : clear(policyRequires);
      }
      // Nothing the server sent before the handshake can be trusted (STARTTLS response injection).
      reader.discardBuffered();
      return socket.upgradeToSsl(tls.sslOptions(), options.tlsSni())
          .recover(e -> Future.failedFuture(new HostDeferral("TLS session: (STARTTLS) handshake failed: "
              + handshakeError(e), true)))
          .compose(v -> afterHandshake());
    });
  }

  /** The session goes on in clear; below policy when {@code hosts_require_tls} lists the host (then only for TLS-Required: No). */
  private Future<Void> clear(boolean policyRequires) {
    belowPolicy |= policyRequires;
    return Future.succeededFuture();
  }

  /** {@code protocol: smtps}: the handshake comes first, before the server's banner (RFC 8314). */
  private Future<Void> implicitTls() {
    return socket.upgradeToSsl(tls.sslOptions(), options.tlsSni())
        .recover(e -> Future.failedFuture(new HostDeferral("TLS session: (SMTPS) handshake failed: "
            + handshakeError(e), true)))
        .compose(v -> verified());
  }

  /** Records the session's TLS facts; fails when the host must verify its certificate and did not. */
  private Future<Void> verified() {
    TlsSummary summary = tls.summarize(socket, host, options);
    boolean mustVerify = options.tlsVerifyHosts().matches(host.address(), host.name());
    if (mustVerify && !summary.verified() && policyWaived) {
      // RFC 8689 5: an unverified certificate does not stop a TLS-Required: No message, and TLS is kept.
      belowPolicy = true;
    } else if (mustVerify && !summary.verified()) {
      return Future.failedFuture(new HostDeferral("TLS session: certificate verification failed: "
          + ReplyReader.printable(summary.verdict()), true));
    }
    tlsSummary = summary;
    return Future.succeededFuture();
  }

  private Future<Void> afterHandshake() {
    return verified().compose(v -> ehloAfterStartTls());
  }

  private Future<Void> ehloAfterStartTls() {
    capabilities = EhloCapabilities.NONE;
    // Plaintext queued before the handshake is replayed after it: let it arrive and drop it before EHLO.
    Promise<Void> settled = Promise.promise();
    context.runOnContext(v -> {
      reader.discardBuffered();
      settled.complete();
    });
    return settled.future().compose(v -> hello());
  }

  private Future<Void> authenticate() {
    boolean require = options.hostsRequireAuth().matches(host.address(), host.name());
    boolean attempt = require || options.hostsTryAuth().matches(host.address(), host.name());
    if (!attempt) {
      return Future.succeededFuture();
    }
    List<ClientAuthenticator> usable = options.authenticators().stream()
        .filter(a -> capabilities.authMechanisms().contains(a.publicName())).toList();
    return tryAuthenticators(usable, 0).compose(name -> {
      if (name != null) {
        authenticator = name;
        return Future.succeededFuture();
      }
      if (require) {
        return Future.failedFuture(new HostDeferral(usable.isEmpty()
            ? "authentication required but no matching mechanism offered (" + capabilities.authMechanisms() + ")"
            : "authentication required but authentication attempt(s) failed"));
      }
      LOG.info("{}: authentication failed or not possible; going on unauthenticated (hosts_try_auth)", host);
      return Future.succeededFuture();
    });
  }

  /** The name of the first authenticator that succeeds, or null. */
  private Future<String> tryAuthenticators(List<ClientAuthenticator> list, int index) {
    if (index >= list.size() || reader.broken()) {
      return Future.succeededFuture(null);
    }
    ClientAuthenticator a = list.get(index);
    return sasl(new ClientSasl(a), "AUTH " + a.publicName()).compose(ok -> {
      if (ok) {
        return Future.succeededFuture(a.name());
      }
      LOG.info("{}: {} authenticator {} failed", host, a.publicName(), a.name());
      return tryAuthenticators(list, index + 1);
    });
  }

  private Future<Boolean> sasl(ClientSasl exchange, String stage) {
    return hiddenCommand(exchange.command(), stage, stage + " <hidden>").compose(reply -> saslStep(exchange, stage,
        reply));
  }

  private Future<Boolean> saslStep(ClientSasl exchange, String stage, SmtpReply reply) {
    if (reply.code() == 235) {
      return Future.succeededFuture(true);
    }
    if (reply.code() != 334) {
      return Future.succeededFuture(false);
    }
    String answer;
    try {
      answer = exchange.respond(reply.lines().get(0));
    } catch (IllegalStateException e) {
      LOG.info("{}: {}: {}; cancelling", host, stage, e.getMessage());
      return hiddenCommand("*", stage, "*").map(r -> false);
    }
    return hiddenCommand(answer, stage, "<hidden>").compose(r -> saslStep(exchange, stage, r));
  }

  // ---------------------------------------------------------------------------------------------
  // Transactions

  private Future<MessageResult> sendOnContext(OutboundMessage message) {
    if (hostProblem != null) {
      return Future.succeededFuture(deferAll(message, hostProblem));
    }
    if (policyWaived && !message.tlsPolicyWaived()) {
      // Only TLS-Required: No messages on a connection spared the TLS policy, whatever became of it:
      // nothing is sent, and the connection stays for the messages it was opened for.
      return Future.succeededFuture(deferAll(message, "connection opened for TLS-Required: No messages only"));
    }
    messages++;
    chunked = false;
    Map<String, RecipientResult> results = new LinkedHashMap<>();
    Future<Void> ready = needsReset ? reset() : Future.succeededFuture();
    List<List<String>> chunks = new ArrayList<>();
    List<String> all = message.recipients();
    for (int i = 0; i < all.size(); i += options.maxRcpt()) {
      chunks.add(all.subList(i, Math.min(all.size(), i + options.maxRcpt())));
    }
    for (List<String> chunk : chunks) {
      ready = ready.compose(v -> transaction(message, chunk, results));
    }
    return ready.transform(ar -> {
      String problem = ar.succeeded() ? null
          : ar.cause() instanceof HostDeferral d ? d.getMessage() : "internal error: " + ar.cause();
      if (problem != null) {
        hostProblem = problem;
        abort();
      }
      List<RecipientResult> out = new ArrayList<>();
      for (String r : all) {
        RecipientResult known = results.get(r);
        out.add(known != null && known.status() != null ? known
            : new RecipientResult(r, DeliveryStatus.DEFERRED, 0, null, problem));
      }
      return Future.succeededFuture(new MessageResult(out, problem, tlsSummary, authenticator, chunked,
          belowPolicy));
    });
  }

  private Future<Void> reset() {
    return command("RSET", "RSET", options.commandTimeout()).compose(reply -> {
      needsReset = false;
      return positive(reply, "RSET");
    });
  }

  /**
   * One MAIL/RCPT.../DATA transaction for up to {@code max_rcpt} recipients. Results go into
   * {@code results}; a recipient accepted at RCPT but not yet settled has a null status there,
   * so a later connection problem defers it.
   */
  private Future<Void> transaction(OutboundMessage message, List<String> forMessage,
                                   Map<String, RecipientResult> results) {
    NextHopRequirements hop = NextHopRequirements.of(message, forMessage, capabilities, tlsSummary);
    hop.refused().forEach(r -> results.put(r.address(), r));
    List<String> recipients = List.copyOf(hop.wire().keySet());
    if (recipients.isEmpty()) {
      return Future.succeededFuture();
    }
    StringBuilder mail = new StringBuilder("MAIL FROM:<").append(hop.sender()).append('>');
    if (capabilities.has("SIZE")) {
      mail.append(" SIZE=").append(message.size() + options.sizeAddition());
    }
    if (message.eightBit() && capabilities.has("8BITMIME")) {
      mail.append(" BODY=8BITMIME");
    }
    boolean dsn = capabilities.has("DSN");
    if (dsn) {
      mail.append(DsnParametersOut.mail(message.dsn()));
    }
    if (hop.smtpUtf8()) {
      mail.append(" SMTPUTF8");
    }
    if (message.requireTls()) {
      mail.append(" REQUIRETLS");
    }
    String mailCommand = mail.toString();
    List<String> rcptCommands = recipients.stream()
        .map(r -> "RCPT TO:<" + hop.wire().get(r) + ">" + (dsn ? DsnParametersOut.rcpt(message.dsn(), r) : "")).toList();
    boolean pipelining = capabilities.has("PIPELINING")
        && !options.hostsAvoidPipelining().matches(host.address(), host.name());
    // RFC 2920 3.1: DATA may end the group, saving a round trip per message; BDAT goes after the replies.
    boolean dataInGroup = pipelining && !chunking();
    Duration timeout = options.commandTimeout();
    Future<SmtpReply> mailReply;
    if (pipelining) {
      // One write: MAIL, every RCPT and (without CHUNKING) DATA, then the replies in order.
      StringBuilder group = new StringBuilder(mailCommand).append("\r\n");
      rcptCommands.forEach(c -> group.append(c).append("\r\n"));
      if (dataInGroup) {
        group.append("DATA\r\n");
      }
      logCommands(group.toString());
      send(Buffer.buffer(group.toString()));
      mailReply = reader.next(mailCommand, timeout);
    } else {
      mailReply = command(mailCommand, mailCommand, timeout);
    }
    return mailReply.compose(reply -> {
      if (!reply.isPositive()) {
        needsReset = true;
        for (String r : recipients) {
          results.put(r, refused(r, reply, mailCommand));
        }
        // Pipelined RCPTs (and DATA) were sent anyway: read their replies to stay in step.
        return pipelining ? drain(rcptCommands, 0, timeout)
            .compose(v -> dataInGroup ? reader.next("DATA", timeout).compose(this::endRefusedData)
                : Future.succeededFuture()) : Future.succeededFuture();
      }
      return recipients(recipients, rcptCommands, 0, pipelining, results).compose(v -> {
        List<String> accepted = recipients.stream().filter(r -> results.get(r).status() == null).toList();
        if (accepted.isEmpty()) {
          needsReset = true;
          return dataInGroup ? reader.next("DATA", timeout).compose(this::endRefusedData) : Future.succeededFuture();
        }
        return data(message, accepted, results, dataInGroup ? reader.next("DATA", timeout) : null);
      });
    });
  }

  /**
   * The reply to a pipelined DATA after every recipient (or MAIL) was refused: a server that says
   * 354 all the same gets an empty message, ended at once (RFC 2920 3.1), which it must refuse
   * for want of recipients; its answer is read and ignored, and RSET follows before the next one.
   */
  private Future<Void> endRefusedData(SmtpReply dataReply) {
    if (dataReply.code() != 354) {
      return Future.succeededFuture();
    }
    LOG.debug("{} SMTP>> . (no recipient accepted)", host);
    send(Buffer.buffer(".\r\n"));
    return reader.next("end of data", options.finalTimeout()).mapEmpty();
  }

  /** BDAT (RFC 3030) for the content: the server offers CHUNKING and the host is in {@code hosts_try_chunking}. */
  private boolean chunking() {
    return capabilities.has("CHUNKING") && options.hostsTryChunking().matches(host.address(), host.name());
  }

  private Future<Void> recipients(List<String> recipients, List<String> commands, int i, boolean pipelined,
                                  Map<String, RecipientResult> results) {
    if (i >= recipients.size()) {
      return Future.succeededFuture();
    }
    String rcpt = recipients.get(i);
    String cmd = commands.get(i);
    Future<SmtpReply> reply = pipelined ? reader.next(cmd, options.commandTimeout())
        : command(cmd, cmd, options.commandTimeout());
    return reply.compose(r -> {
      results.put(rcpt, r.isPositive() ? new RecipientResult(rcpt, null, r.code(), r.enhanced(), r.toString())
          : refused(rcpt, r, cmd));
      return recipients(recipients, commands, i + 1, pipelined, results);
    });
  }

  private Future<Void> drain(List<String> stages, int i, Duration timeout) {
    if (i >= stages.size()) {
      return Future.succeededFuture();
    }
    return reader.next(stages.get(i), timeout).compose(r -> drain(stages, i + 1, timeout));
  }

  /**
   * The message content, with BDAT (RFC 3030) when the server offers CHUNKING and the host is in
   * {@code hosts_try_chunking}: one {@code BDAT <size> LAST} and the spool file's bytes exactly, no
   * dot-stuffing; else DATA, dot-stuffed. {@code pipelinedData} is the reply to a DATA sent with
   * MAIL and RCPT (RFC 2920 3.1), or null when DATA is still to be sent.
   */
  private Future<Void> data(OutboundMessage message, List<String> accepted, Map<String, RecipientResult> results,
                            Future<SmtpReply> pipelinedData) {
    boolean chunking = chunking();
    chunked = chunking;
    Future<SmtpReply> end = chunking ? bdat(message)
        : (pipelinedData != null ? pipelinedData : command("DATA", "DATA", options.commandTimeout())).compose(reply -> {
          if (reply.code() != 354) {
            needsReset = true;
            for (String r : accepted) {
              results.put(r, refused(r, reply.isPositive() ? new SmtpReply(451, null, reply.lines()) : reply, "DATA"));
            }
            return Future.succeededFuture(null);
          }
          return content(message, new DotStuffer()).compose(v -> reader.next("end of data", options.finalTimeout()));
        });
    String stage = chunking ? "BDAT" : "end of data";
    return end.compose(reply -> {
      if (reply == null) {
        return Future.succeededFuture();
      }
      if (!reply.isPositive()) {
        needsReset = true;
      }
      for (String r : accepted) {
        results.put(r, reply.isPositive()
            // A server that offered DSN got the RFC 3461 parameters with MAIL and RCPT: it reports from now on.
            ? new RecipientResult(r, DeliveryStatus.DELIVERED, reply.code(), reply.enhanced(), reply.toString(),
                capabilities.has("DSN"))
            : refused(r, reply, stage));
      }
      return Future.succeededFuture();
    });
  }

  /** {@code BDAT <size> LAST} and the spool file as it is; the reply is the end of data's (final_timeout). */
  private Future<SmtpReply> bdat(OutboundMessage message) {
    return smallContent(message).compose(content -> {
      if (content == null) {
        return bdatStreamed(message);
      }
      String command = "BDAT " + content.length() + " LAST";
      LOG.debug("{} SMTP>> {}", host, command);
      send(Buffer.buffer(command + "\r\n").appendBuffer(content));
      return reader.next("BDAT", options.finalTimeout());
    });
  }

  private Future<SmtpReply> bdatStreamed(OutboundMessage message) {
    return vertx.fileSystem().props(message.dataFile().toString())
        .recover(e -> Future.failedFuture(new HostDeferral("spool file unreadable: " + e.getMessage())))
        .compose(props -> {
          String command = "BDAT " + props.size() + " LAST";
          LOG.debug("{} SMTP>> {}", host, command);
          send(Buffer.buffer(command + "\r\n"));
          return stream(message, null);
        })
        .compose(v -> reader.next("BDAT", options.finalTimeout()));
  }

  /**
   * Sends the spool file dot-stuffed and its terminator: a small one ({@link #smallContent}) in one
   * write, a larger one {@link #stream streamed}.
   */
  private Future<Void> content(OutboundMessage message, DotStuffer stuffer) {
    return smallContent(message).compose(content -> {
      if (content == null) {
        return stream(message, stuffer);
      }
      Buffer out = stuffer.stuff(content).appendBuffer(stuffer.terminator());
      send(out);
      return Future.succeededFuture();
    });
  }

  /**
   * The whole spool file when it has at most {@code READ_CHUNK} bytes, read in one blocking call
   * (one worker hop, where streaming takes one each for open, every read, end and close); null
   * when it is larger, to be streamed with back-pressure. The size in the envelope is a hint that
   * spares larger files the extra open.
   */
  private Future<Buffer> smallContent(OutboundMessage message) {
    if (message.size() > READ_CHUNK) {
      return Future.succeededFuture(null);
    }
    return vertx.<Buffer>executeBlocking(() -> {
      try (FileChannel channel = FileChannel.open(message.dataFile(), StandardOpenOption.READ)) {
        long size = channel.size();
        if (size > READ_CHUNK) {
          return null;
        }
        ByteBuffer bytes = ByteBuffer.allocate((int) size);
        while (bytes.hasRemaining() && channel.read(bytes) >= 0) {
          // a regular file: read until full (or a shorter end, which the content is then)
        }
        return Buffer.buffer(Arrays.copyOf(bytes.array(), bytes.position()));
      }
    }, false).recover(e -> Future.failedFuture(new HostDeferral("spool file unreadable: " + e.getMessage())));
  }

  /**
   * Streams the spool file, dot-stuffed for DATA ({@code stuffer}; null for BDAT, which sends the
   * bytes as they are), with back-pressure: reading pauses while the socket's write queue is full.
   * {@code data_timeout} bounds each wait for the socket to drain.
   */
  private Future<Void> stream(OutboundMessage message, DotStuffer stuffer) {
    return vertx.fileSystem().open(message.dataFile().toString(), new OpenOptions().setRead(true).setWrite(false))
        .recover(e -> Future.failedFuture(new HostDeferral("spool file unreadable: " + e.getMessage())))
        .compose(file -> {
          Promise<Void> done = Promise.promise();
          streaming = done;
          long[] timer = {-1};
          file.setReadBufferSize(READ_CHUNK);
          file.exceptionHandler(e -> done.tryFail(new HostDeferral("spool file read error: " + e.getMessage())));
          file.handler(chunk -> {
            socket.write(stuffer == null ? chunk : stuffer.stuff(chunk));
            if (socket.writeQueueFull()) {
              file.pause();
              timer[0] = vertx.setTimer(options.dataTimeout().toMillis(), id -> {
                timer[0] = -1;
                done.tryFail(new HostDeferral("SMTP timeout after sending data block"));
              });
              socket.drainHandler(v -> {
                socket.drainHandler(null);
                vertx.cancelTimer(timer[0]);
                timer[0] = -1;
                if (!done.future().isComplete()) {
                  file.resume();
                }
              });
            }
          });
          file.endHandler(v -> {
            if (stuffer != null) {
              socket.write(stuffer.terminator());
            }
            done.tryComplete();
          });
          return done.future().eventually(() -> {
            streaming = null;
            socket.drainHandler(null);
            if (timer[0] >= 0) {
              vertx.cancelTimer(timer[0]);
            }
            return file.close();
          });
        });
  }

  // ---------------------------------------------------------------------------------------------

  private Future<SmtpReply> command(String line, String stage, Duration timeout) {
    LOG.debug("{} SMTP>> {}", host, line);
    return write(line).compose(v -> reader.next(stage, timeout));
  }

  /** A command whose text must not be logged (AUTH and its responses). */
  private Future<SmtpReply> hiddenCommand(String line, String stage, String logText) {
    LOG.debug("{} SMTP>> {}", host, logText);
    return write(line).compose(v -> reader.next(stage, options.commandTimeout()));
  }

  private Future<Void> write(String line) {
    send(Buffer.buffer(line + "\r\n"));
    return Future.succeededFuture();
  }

  private void send(Buffer bytes) {
    if (reader.broken()) {
      // The reader fails the following wait with the right text; do not write to a dead socket.
      return;
    }
    socket.write(bytes);
  }

  private void logCommands(String group) {
    if (LOG.isDebugEnabled()) {
      for (String l : group.split("\r\n")) {
        LOG.debug("{} SMTP>> {}", host, l);
      }
    }
  }

  /**
   * Closes the channel at once. {@code NetSocket.close()} first flushes what is queued, which
   * never ends when the peer has stopped reading: a stalled server would keep the socket (and
   * the caller's future) forever.
   */
  private Future<Void> abort() {
    if (socket instanceof NetSocketInternal internal) {
      Promise<Void> closed = Promise.promise();
      // From Vert.x's own handler context: the close skips its flush-first close handling.
      internal.channelHandlerContext().close().addListener(f -> closed.tryComplete());
      return closed.future();
    }
    return socket.close();
  }

  private void broken() {
    abort();
    Promise<Void> s = streaming;
    if (s != null) {
      s.tryFail(new HostDeferral("Remote host closed connection while sending data"));
    }
  }

  private static Future<Void> positive(SmtpReply reply, String stage) {
    return reply.isPositive() ? Future.succeededFuture() : Future.failedFuture(smtpError(stage, reply));
  }

  private static HostDeferral smtpError(String stage, SmtpReply reply) {
    return new HostDeferral("SMTP error from remote mail server after " + stage + ": " + describe(reply));
  }

  private static RecipientResult refused(String recipient, SmtpReply reply, String stage) {
    return new RecipientResult(recipient, reply.isPermanentFailure() ? DeliveryStatus.FAILED
        : DeliveryStatus.DEFERRED, reply.code(), reply.enhanced(),
        "SMTP error from remote mail server after " + stage + ": " + describe(reply));
  }

  private static String describe(SmtpReply reply) {
    return ReplyReader.printable(reply.toString(), 200);
  }

  private static MessageResult deferAll(OutboundMessage message, String reason) {
    return new MessageResult(message.recipients().stream()
        .map(r -> new RecipientResult(r, DeliveryStatus.DEFERRED, 0, null, reason)).toList(),
        reason, null, null, false);
  }

  private static String connectFailure(Throwable e) {
    String m = String.valueOf(e.getMessage());
    if (m.contains("Connection refused")) {
      return "Connection refused";
    }
    if (e instanceof io.netty.channel.ConnectTimeoutException || m.contains("timed out")) {
      return "Connection timed out";
    }
    return ReplyReader.printable(m);
  }

  private static String handshakeError(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return ReplyReader.printable(String.valueOf(t.getMessage()));
  }
}
