package org.postern.session;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import org.postern.bus.AclVerdict;
import org.postern.bus.AclStage;
import org.postern.bus.Ack;
import org.postern.bus.Addresses;
import org.postern.bus.BusCodecs;
import org.postern.bus.CloseReason;
import org.postern.bus.FilterHook;
import org.postern.bus.FilterRequest;
import org.postern.bus.FilterVerdict;
import org.postern.bus.InstanceDirectory;
import org.postern.bus.SessionList;
import org.postern.bus.SessionAction;
import org.postern.bus.SessionAddresses;
import org.postern.bus.SessionClose;
import org.postern.bus.SessionCommand;
import org.postern.bus.SessionData;
import org.postern.bus.SessionOpen;
import org.postern.bus.SessionResponse;
import org.postern.bus.SessionTls;
import org.postern.config.ConfigHolder;
import org.postern.log.MainLog;
import org.postern.smtp.CommandLineLimits;
import org.postern.smtp.Replies;
import org.postern.smtp.SmtpReply;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The SMTP state machine, one {@link SmtpSession} per session id. Lines in, replies and actions out,
 * over {@code postern.session.*}; it never touches sockets or files, so the same machine serves
 * the network listener, {@code -bs} and {@code -bS}. One instance per event loop: each holds the
 * sessions of the connections on its loop (and those of loops without an instance, when it is the
 * first), on addresses of its own listed in the {@link InstanceDirectory}.
 */
public final class SessionVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(SessionVerticle.class);
  private static final Map<String, SmtpCommand> COMMANDS = Map.ofEntries(
      Map.entry("HELO", new HeloCommand(false)),
      Map.entry("EHLO", new HeloCommand(true)),
      Map.entry("MAIL", new MailCommand()),
      Map.entry("RCPT", new RcptCommand()),
      Map.entry("DATA", new DataCommand()),
      Map.entry("BDAT", new BdatCommand()),
      Map.entry("RSET", new RsetCommand()),
      Map.entry("NOOP", new NoopCommand()),
      Map.entry("QUIT", new QuitCommand()),
      Map.entry("HELP", new HelpCommand()),
      Map.entry("VRFY", new VrfyCommand()),
      Map.entry("EXPN", new ExpnCommand()),
      Map.entry("STARTTLS", new StartTlsCommand()),
      Map.entry("TURN", new RefusedCommand(Replies.NOT_IMPLEMENTED.withText("TURN is not supported"))));
  private static final EndOfData END_OF_DATA = new EndOfData();
  /** Batched SMTP (Exim's -bS): HELO/EHLO only reset; queries that expect an answer do nothing. */
  private static final Map<String, String> BATCH_EQUIVALENTS = Map.of(
      "HELO", "RSET", "EHLO", "RSET", "VRFY", "NOOP", "EXPN", "NOOP", "ETRN", "NOOP", "HELP", "NOOP");
  private static final SmtpReply TLS_FAILED = SmtpReply.of(554, "5.7.0", "TLS negotiation failed: only QUIT is accepted");
  private static final SmtpReply TOO_MANY_ERRORS = SmtpReply.of(421, "4.7.0",
      "Too many syntax or protocol errors - closing connection");

  private final Map<String, SmtpSession> sessions = new HashMap<>();
  private AuthClient authenticators;
  private AuthCommand auth;
  private EtrnCommand etrn;
  private AclClient acl;
  private FilterClient filters;
  private ConfigHolder config;
  private InstanceDirectory<SessionAddresses> directory;
  private SessionAddresses addresses;

  @Override
  public Future<?> start() {
    config = ConfigHolder.of(vertx);
    BusCodecs.register(vertx);
    acl = new AclClient(vertx, config().getLong("acl_timeout_ms", 30_000L));
    filters = new FilterClient(vertx);
    authenticators = new AuthClient(vertx);
    auth = new AuthCommand(vertx, authenticators);
    etrn = new EtrnCommand(vertx, config().getLong("etrn_timeout_ms", 5_000L));
    directory = InstanceDirectory.of(vertx, Addresses.SESSION);
    addresses = directory.register(context, SessionAddresses::ofInstance);
    var bus = vertx.eventBus();
    // Only this instance's addresses: a session lives in one instance, so a plain address that
    // every instance consumed would hand its commands to instances that do not know it.
    return Future.all(
        bus.<SessionOpen>localConsumer(addresses.open(), this::open).completion(),
        bus.<SessionCommand>localConsumer(addresses.command(), this::command).completion(),
        bus.<SessionData>localConsumer(addresses.data(), this::data).completion(),
        bus.<SessionTls>localConsumer(addresses.tls(), this::tls).completion(),
        bus.<SessionClose>localConsumer(addresses.close(), this::close).completion(),
        bus.<Ack>localConsumer(addresses.list(), this::list).completion());
  }

  @Override
  public Future<?> stop() {
    directory.unregister(addresses);
    return Future.succeededFuture();
  }

  private void open(Message<SessionOpen> msg) {
    SmtpSession session = new SmtpSession(config.current(), acl, filters, msg.body());
    sessions.put(session.id(), session);
    session.check(AclStage.CONNECT, session::variables).compose(verdict -> {
      if (verdict.accepted()) {
        return session.filtering() ? filteredGreeting(session) : Future.succeededFuture(greeting(session));
      }
      // Exim runs the notquit ACL after a drop, not after a deny.
      return Future.succeededFuture(SessionResponse.close(SmtpSession.refusal(AclStage.CONNECT, verdict),
              verdict.type() == AclVerdict.Type.DROP ? CloseReason.ACL_DROP : CloseReason.CONNECT_REFUSED)
          .withLog("rejected connection from " + session.hostForLog()));
    }).onComplete(r -> answer(msg, session, r.result(), r.cause()));
  }

  private static SessionResponse greeting(SmtpSession session) {
    return SessionResponse.reply(SmtpReply.of(220, null, session.config().smtpBanner()));
  }

  /** The connect hook: a filter's reject or tempfail refuses the connection as a connect ACL's deny does. */
  private static Future<SessionResponse> filteredGreeting(SmtpSession session) {
    return session.filter(FilterRequest.of(session.id(), FilterHook.CONNECT, session.variables(), null)).map(v -> {
      switch (v.type()) {
        case REJECT, TEMPFAIL -> {
          SmtpReply refusal = SmtpSession.filterRefusal(v);
          return SessionResponse.close(v.type() == FilterVerdict.Type.TEMPFAIL
                  ? SmtpReply.of(421, refusal.enhanced(), refusal.text()) : refusal, CloseReason.CONNECT_REFUSED)
              .withLog("rejected connection from " + session.hostForLog() + " by filter: " + refusal);
        }
        case DISCARD -> session.filterDiscardsAll();
        default -> {
        }
      }
      return greeting(session);
    });
  }

  private void command(Message<SessionCommand> msg) {
    SessionCommand body = msg.body();
    SmtpSession session = sessions.get(body.id());
    if (session == null) {
      msg.fail(404, "no such session");
      return;
    }
    Future<SessionResponse> result;
    try {
      result = dispatch(session, body);
    } catch (RuntimeException e) {
      result = Future.failedFuture(e);
    }
    result.map(r -> countErrors(session, r)).onComplete(r -> answer(msg, session, r.result(), r.cause()));
  }

  private Future<SessionResponse> dispatch(SmtpSession session, SessionCommand body) {
    boolean betweenChunks = session.transaction().chunked();
    if (session.inData() && !betweenChunks) {
      return MailCommand.done(Replies.BAD_SEQUENCE);
    }
    if (session.authExchange() != null) {
      return auth.respond(session, body.line(), body.tooLong());
    }
    if (body.tooLong()) {
      return MailCommand.done(Replies.LINE_TOO_LONG);
    }
    if (body.bareLf()) {
      return MailCommand.done(Replies.BARE_LF_COMMAND);
    }
    String line = body.line();
    if (session.isTlsFailed() && !line.strip().equalsIgnoreCase("QUIT")) {
      return MailCommand.done(TLS_FAILED);
    }
    if (line.indexOf('\0') >= 0 || line.indexOf('\r') >= 0) {
      return MailCommand.done(Replies.BAD_CHARACTERS);
    }
    int space = line.indexOf(' ');
    String verb = (space < 0 ? line : line.substring(0, space)).toUpperCase(Locale.ROOT);
    String argument = space < 0 ? "" : line.substring(space + 1);
    int length = CommandLineLimits.wireLength(line);
    // A line within RFC 5321's 512 fits every verb: only a longer one has the extensions' host
    // lists matched, which every NOOP paid before (three lists, the client's address parsed thrice).
    if (length > session.config().commandLineMax() && length > session.commandLineLimit(verb)) {
      // The decoder frames up to the longest any verb may get; this verb, for this client, may be
      // shorter (RFC 3461/4954/6531 raise only MAIL and RCPT, and only when offered).
      return MailCommand.done(Replies.LINE_TOO_LONG);
    }
    if (betweenChunks && !BdatCommand.allowedBetweenChunks(verb)) {
      // RFC 3030 4.2: DATA may not follow BDAT in a transaction, nor may anything but the next chunk.
      return MailCommand.done(BdatCommand.ONLY_BDAT);
    }
    if (session.isBatch() && BATCH_EQUIVALENTS.containsKey(verb)) {
      verb = BATCH_EQUIVALENTS.get(verb);
      argument = "";
    }
    SmtpCommand command = verb.equals("AUTH") ? auth : verb.equals("ETRN") ? etrn : COMMANDS.get(verb);
    if (command == null) {
      if (session.tooManyUnknown()) {
        return Future.succeededFuture(SessionResponse.close(Replies.TOO_MANY_UNKNOWN, CloseReason.BAD_COMMANDS)
            .withLog("too many unrecognized commands from " + session.hostForLog()));
      }
      return MailCommand.done(Replies.UNKNOWN_COMMAND);
    }
    return command.execute(session, argument);
  }

  /** Exim's {@code smtp_max_synprot_errors}: syntax and sequence errors end a session that keeps making them. */
  private static SessionResponse countErrors(SmtpSession session, SessionResponse r) {
    int code = r.reply().code();
    boolean protocolError = code == 500 || code == 501 || code == 503 || code == 555;
    if (protocolError && r.action() == SessionAction.CONTINUE && session.tooManyProtocolErrors()) {
      return SessionResponse.close(TOO_MANY_ERRORS, CloseReason.BAD_COMMANDS)
          .withLog("too many syntax or protocol errors from " + session.hostForLog() + " (last: " + r.reply() + ")");
    }
    return r;
  }

  private void data(Message<SessionData> msg) {
    SmtpSession session = sessions.get(msg.body().id());
    if (session == null) {
      msg.fail(404, "no such session");
      return;
    }
    END_OF_DATA.execute(session, msg.body()).onComplete(r -> answer(msg, session, r.result(), r.cause()));
  }

  private void tls(Message<SessionTls> msg) {
    SessionTls body = msg.body();
    SmtpSession session = sessions.get(body.id());
    if (session == null) {
      msg.fail(404, "no such session");
      return;
    }
    if (body.failed()) {
      session.tlsFailed();
    } else {
      session.tlsStarted(body.tls());
    }
    msg.reply(Ack.INSTANCE);
  }

  /** The connection is gone: forget the session, and tell the notquit ACL why unless it was QUIT. */
  private void close(Message<SessionClose> msg) {
    SessionClose body = msg.body();
    SmtpSession session = sessions.remove(body.id());
    if (session == null) {
      return;
    }
    session.filtersClosed();
    if (session.authExchange() != null) {
      authenticators.cancel(session.id());
    }
    // Exim: nothing at all (not even a -bh trace line) without an acl_smtp_notquit.
    if (body.reason().runsNotQuitAcl() && session.config().aclForStage(AclStage.NOTQUIT) != null) {
      session.check(AclStage.NOTQUIT, () -> session.variables().put("reason", body.reason().wire()))
          .onSuccess(v -> {
            if (v.type() != AclVerdict.Type.ACCEPT && v.logMessage() != null) {
              MainLog.write(v.logMessage());
            }
          });
    }
  }

  /** The admin API's {@code GET /sessions}: what this instance's sessions are doing now. */
  private void list(Message<Ack> msg) {
    msg.reply(new SessionList(sessions.values().stream().map(SmtpSession::summary).toList()));
  }

  /** Sessions stay until {@code postern.session.close}, which every ending sends, so the notquit ACL still has them. */
  private void answer(Message<?> msg, SmtpSession session, SessionResponse response, Throwable failure) {
    if (failure != null) {
      LOG.error("session {}: internal error", session.id(), failure);
      response = SessionResponse.reply(Replies.TEMPORARY_LOCAL_ERROR);
    }
    if (!session.isLocal() && !session.greetedWithPipelining()) {
      response = response.syncPoint(true);
    }
    msg.reply(response);
  }
}
