package org.postern.session;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import org.postern.bus.AclVerdict;
import org.postern.bus.Addresses;
import org.postern.bus.SessionAction;
import org.postern.bus.SessionResponse;
import org.postern.config.ConfigHolder;
import org.postern.log.MainLog;
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
 * the network listener, {@code -bs} and {@code -bS}.
 */
public final class SessionVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(SessionVerticle.class);
  private static final Map<String, SmtpCommand> COMMANDS = Map.ofEntries(
      Map.entry("HELO", new HeloCommand(false)),
      Map.entry("EHLO", new HeloCommand(true)),
      Map.entry("MAIL", new MailCommand()),
      Map.entry("RCPT", new RcptCommand()),
      Map.entry("DATA", new DataCommand()),
      Map.entry("RSET", new RsetCommand()),
      Map.entry("NOOP", new NoopCommand()),
      Map.entry("QUIT", new QuitCommand()),
      Map.entry("HELP", new HelpCommand()),
      Map.entry("VRFY", new VrfyCommand()),
      Map.entry("EXPN", new ExpnCommand()),
      Map.entry("STARTTLS", new StartTlsCommand()),
      Map.entry("TURN", new RefusedCommand(Replies.NOT_IMPLEMENTED.withText("TURN is not supported"))));
  /** Batched SMTP (Exim's -bS): HELO/EHLO only reset; queries that expect an answer do nothing. */
  private static final Map<String, String> BATCH_EQUIVALENTS = Map.of(
      "HELO", "RSET", "EHLO", "RSET", "VRFY", "NOOP", "EXPN", "NOOP", "ETRN", "NOOP", "HELP", "NOOP");
  private static final SmtpReply TLS_FAILED = SmtpReply.of(554, "5.7.0", "TLS negotiation failed: only QUIT is accepted");
  private static final SmtpReply TOO_MANY_ERRORS = SmtpReply.of(421, "4.7.0",
      "Too many syntax or protocol errors - closing connection");

  private final Map<String, SmtpSession> sessions = new HashMap<>();
  private AuthCommand auth;
  private EtrnCommand etrn;
  private AclClient acl;
  private ConfigHolder config;

  @Override
  public Future<?> start() {
    config = ConfigHolder.of(vertx);
    acl = new AclClient(vertx, config().getLong("acl_timeout_ms", 30_000L));
    auth = new AuthCommand(vertx, new AuthClient(vertx));
    etrn = new EtrnCommand(vertx, config().getLong("etrn_timeout_ms", 5_000L));
    var bus = vertx.eventBus();
    return Future.all(
        bus.<JsonObject>localConsumer(Addresses.SESSION_OPEN, this::open).completion(),
        bus.<JsonObject>localConsumer(Addresses.SESSION_COMMAND, this::command).completion(),
        bus.<JsonObject>localConsumer(Addresses.SESSION_DATA, this::data).completion(),
        bus.<JsonObject>localConsumer(Addresses.SESSION_TLS, this::tls).completion(),
        bus.<JsonObject>localConsumer(Addresses.SESSION_CLOSE, this::close).completion());
  }

  private void open(Message<JsonObject> msg) {
    JsonObject facts = msg.body();
    String id = facts.getString("id");
    SmtpSession session = new SmtpSession(id, config.current(), acl, facts);
    sessions.put(id, session);
    session.check("connect", session.variables()).map(verdict -> {
      if (verdict.accepted()) {
        return SessionResponse.reply(SmtpReply.of(220, null, session.config().smtpBanner()));
      }
      sessions.remove(id);
      return SessionResponse.close(SmtpSession.refusal("connect", verdict))
          .withLog("rejected connection from " + session.hostForLog());
    }).onComplete(r -> answer(msg, session, r.result(), r.cause()));
  }

  private void command(Message<JsonObject> msg) {
    JsonObject body = msg.body();
    SmtpSession session = sessions.get(body.getString("id"));
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

  private Future<SessionResponse> dispatch(SmtpSession session, JsonObject body) {
    if (session.inData()) {
      return MailCommand.done(Replies.BAD_SEQUENCE);
    }
    if (session.authExchange() != null) {
      return auth.respond(session, body.getString("line", ""), body.getBoolean("too_long", false));
    }
    if (body.getBoolean("too_long", false)) {
      return MailCommand.done(Replies.LINE_TOO_LONG);
    }
    if (body.getBoolean("bare_lf", false)) {
      return MailCommand.done(Replies.BARE_LF_COMMAND);
    }
    String line = body.getString("line", "");
    if (session.isTlsFailed() && !line.strip().equalsIgnoreCase("QUIT")) {
      return MailCommand.done(TLS_FAILED);
    }
    if (line.indexOf('\0') >= 0 || line.indexOf('\r') >= 0) {
      return MailCommand.done(Replies.BAD_CHARACTERS);
    }
    int space = line.indexOf(' ');
    String verb = (space < 0 ? line : line.substring(0, space)).toUpperCase(Locale.ROOT);
    String argument = space < 0 ? "" : line.substring(space + 1);
    if (session.isBatch() && BATCH_EQUIVALENTS.containsKey(verb)) {
      verb = BATCH_EQUIVALENTS.get(verb);
      argument = "";
    }
    SmtpCommand command = verb.equals("AUTH") ? auth : verb.equals("ETRN") ? etrn : COMMANDS.get(verb);
    if (command == null) {
      if (session.tooManyUnknown()) {
        return Future.succeededFuture(SessionResponse.close(Replies.TOO_MANY_UNKNOWN)
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
      return SessionResponse.close(TOO_MANY_ERRORS)
          .withLog("too many syntax or protocol errors from " + session.hostForLog() + " (last: " + r.reply() + ")");
    }
    return r;
  }

  private void data(Message<JsonObject> msg) {
    JsonObject body = msg.body();
    SmtpSession session = sessions.get(body.getString("id"));
    if (session == null) {
      msg.fail(404, "no such session");
      return;
    }
    EndOfData.execute(session, body).onComplete(r -> answer(msg, session, r.result(), r.cause()));
  }

  private void tls(Message<JsonObject> msg) {
    JsonObject body = msg.body();
    SmtpSession session = sessions.get(body.getString("id"));
    if (session == null) {
      msg.fail(404, "no such session");
      return;
    }
    if (body.getBoolean("failed", false)) {
      session.tlsFailed();
    } else {
      session.tlsStarted(body.getJsonObject("tls", new JsonObject()));
    }
    msg.reply(new JsonObject());
  }

  private void close(Message<JsonObject> msg) {
    JsonObject body = msg.body();
    SmtpSession session = sessions.remove(body.getString("id"));
    if (session != null && session.authExchange() != null) {
      vertx.eventBus().send(Addresses.AUTH_PREFIX + "cancel", new JsonObject().put("exchange", session.id()));
    }
    if (session != null && !body.getBoolean("quit", false)) {
      session.check("notquit", session.variables().put("reason", body.getString("reason", "connection lost")))
          .onSuccess(v -> {
            if (v.type() != AclVerdict.Type.ACCEPT && v.logMessage() != null) {
              MainLog.write(v.logMessage());
            }
          });
    }
  }

  private void answer(Message<JsonObject> msg, SmtpSession session, SessionResponse response, Throwable failure) {
    if (failure != null) {
      LOG.error("session {}: internal error", session.id(), failure);
      response = SessionResponse.reply(Replies.TEMPORARY_LOCAL_ERROR);
    }
    if (response.action() == SessionAction.CLOSE) {
      sessions.remove(session.id());
    }
    if (!session.isLocal() && !session.greetedWithPipelining()) {
      response = response.syncPoint(true);
    }
    msg.reply(response.toJson());
  }
}
