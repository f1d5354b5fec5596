package org.postern.session;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import org.postern.bus.AclStage;
import org.postern.bus.AclVerdict;
import org.postern.bus.AuthReply;
import org.postern.bus.AuthStep;
import org.postern.bus.CloseReason;
import org.postern.bus.SessionResponse;
import org.postern.config.AuthenticatorConfig;
import org.postern.smtp.CommandLineLimits;
import org.postern.smtp.Replies;
import org.postern.smtp.SmtpReply;

import java.util.Base64;
import java.util.Locale;

/**
 * AUTH (RFC 4954). Checks sequence, TLS policy and the auth ACL, then runs the exchange with the
 * authenticator over the bus; {@link #respond} takes the client's further lines. The authenticator
 * keeps the failure windows and answers {@code throttled} (454) when one is full. Failures are
 * answered after a delay that doubles with each failure, and {@code smtp_max_auth_failures} ends
 * the session; a failure the authenticator marks uncounted (its mechanism cannot use the user's
 * stored scheme, which says nothing about the password) counts toward neither.
 */
final class AuthCommand extends PolicedCommand<String, AuthCommand.Request> implements SmtpCommand {
  /** RFC 4954 4: a server must accept responses of at least 12288 octets. */
  static final int RESPONSE_LINE_MAX = 12288;
  static final SmtpReply SUCCEEDED = SmtpReply.of(235, "2.7.0", "Authentication succeeded");
  static final SmtpReply FAILED = SmtpReply.of(535, "5.7.8", "Authentication credentials invalid");
  static final SmtpReply ENCRYPTION_REQUIRED = SmtpReply.of(538, "5.7.11",
      "Encryption required for requested authentication mechanism");
  static final SmtpReply UNKNOWN_MECHANISM = SmtpReply.of(504, "5.5.4", "Unrecognized authentication type");
  static final SmtpReply CANCELLED = SmtpReply.of(501, "5.0.0", "Authentication cancelled");
  static final SmtpReply BAD_BASE64 = SmtpReply.of(501, "5.5.2", "Invalid base64 data");
  static final SmtpReply RESPONSE_TOO_LONG = SmtpReply.of(500, "5.5.6", "Authentication exchange line is too long");
  static final SmtpReply TEMPORARILY_REFUSED = SmtpReply.of(454, "4.7.0",
      "Too many recent authentication failures; try again later");
  static final SmtpReply TOO_MANY_FAILURES = SmtpReply.of(421, "4.7.0", "Too many authentication failures");
  static final SmtpReply AUTH_UNAVAILABLE = SmtpReply.of(454, "4.7.0", "Temporary authentication failure");

  private final AuthClient auth;
  private final io.vertx.core.Vertx vertx;

  AuthCommand(io.vertx.core.Vertx vertx, AuthClient auth) {
    super(AclStage.AUTH, true);
    this.vertx = vertx;
    this.auth = auth;
  }

  /** The authenticator the client asked for and its initial response (null when none was sent). */
  record Request(AuthenticatorConfig authenticator, byte[] initialResponse) {
  }

  @Override
  Parsed<Request> parse(SmtpSession session, String argument) {
    if (session.authenticatedId() != null) {
      return sync(Replies.BAD_SEQUENCE.withText("Already authenticated"));
    }
    if (session.transaction().hasSender()) {
      return sync(Replies.BAD_SEQUENCE.withText("AUTH not permitted inside a mail transaction"));
    }
    if (!session.esmtp()) {
      return sync(Replies.BAD_SEQUENCE.withText("AUTH needs EHLO"));
    }
    String[] words = argument.strip().split(" +");
    if (words[0].isEmpty() || words.length > 2) {
      return sync(Replies.SYNTAX_ERROR.withText("Syntax: AUTH mechanism [initial-response]"));
    }
    AuthenticatorConfig authenticator = session.config().auth().mechanism(words[0].toUpperCase(Locale.ROOT));
    if (authenticator == null || !session.offersMechanism(authenticator)) {
      return sync(UNKNOWN_MECHANISM);
    }
    if (!session.offersAuth()) {
      return sync(session.tls() == null ? ENCRYPTION_REQUIRED : Replies.BAD_SEQUENCE.withText("AUTH not available"));
    }
    byte[] initial = null;
    if (words.length == 2) {
      if (words[1].equals("=")) {
        initial = new byte[0];
      } else {
        try {
          initial = Base64.getDecoder().decode(words[1]);
        } catch (IllegalArgumentException e) {
          return sync(BAD_BASE64);
        }
      }
    }
    return Parsed.request(new Request(authenticator, initial));
  }

  @Override
  JsonObject variables(SmtpSession session, Request request) {
    return session.variables().put("authenticator", request.authenticator().name());
  }

  @Override
  Future<SessionResponse> accepted(SmtpSession session, Request request, AclVerdict verdict) {
    session.authExchange(request.authenticator());
    return step(session, request.authenticator(), request.initialResponse(), true);
  }

  /** A line sent inside the exchange (after a 334). */
  Future<SessionResponse> respond(SmtpSession session, String line, boolean tooLong) {
    AuthenticatorConfig authenticator = session.authExchange();
    if (tooLong) {
      return abort(session, RESPONSE_TOO_LONG);
    }
    if (line.equals("*")) {
      return abort(session, CANCELLED);
    }
    byte[] response;
    try {
      response = Base64.getDecoder().decode(line.strip());
    } catch (IllegalArgumentException e) {
      return abort(session, BAD_BASE64);
    }
    return step(session, authenticator, response, false).map(r -> r.syncPoint(true));
  }

  private Future<SessionResponse> abort(SmtpSession session, SmtpReply reply) {
    auth.cancel(session.id());
    session.authExchange(null);
    return Future.succeededFuture(exchangeOver(session, SessionResponse.reply(reply)));
  }

  private Future<SessionResponse> step(SmtpSession session, AuthenticatorConfig a, byte[] response, boolean first) {
    AuthStep request = new AuthStep(session.id(), a.publicName(), first, response, session.config().generation(),
        session.variables());
    return auth.step(request).compose(result -> switch (result.status()) {
      case CHALLENGE -> Future.succeededFuture(SessionResponse.reply(
          SmtpReply.of(334, null, Base64.getEncoder().encodeToString(result.challenge()))).withLineLimit(RESPONSE_LINE_MAX));
      case SUCCESS -> {
        session.authExchange(null);
        session.authenticated(a.name(), result.user());
        yield Future.succeededFuture(exchangeOver(session, SessionResponse.reply(SUCCEEDED)));
      }
      case THROTTLED -> {
        session.authExchange(null);
        SmtpReply sent = reply(result, TEMPORARILY_REFUSED);
        yield Future.succeededFuture(exchangeOver(session, SessionResponse.reply(sent))
            .withLog("AUTH refused for " + session.hostForLog() + ": " + sent + " ("
                + (result.reason() == null ? "too many recent failures" : result.reason()) + ")"));
      }
      case FAILURE -> {
        session.authExchange(null);
        yield failed(session, a, result);
      }
    }, e -> {
      session.authExchange(null);
      return Future.succeededFuture(exchangeOver(session, SessionResponse.reply(AUTH_UNAVAILABLE)));
    });
  }

  /** The reply an authenticator asked for, else {@code standard}; the text says whether to try again later. */
  private static SmtpReply reply(AuthReply result, SmtpReply standard) {
    if (result.code() == null) {
      return standard;
    }
    return SmtpReply.of(result.code(), result.enhanced(), (result.code() >= 500 ? FAILED : AUTH_UNAVAILABLE).text());
  }

  private Future<SessionResponse> failed(SmtpSession session, AuthenticatorConfig a, AuthReply result) {
    boolean counted = result.countedFailure();
    String user = result.user();
    // An uncounted failure waits as long as a counted one would at this point of the session, so
    // timing alone does not tell "wrong password" from "mechanism unusable for this user".
    int failures = counted ? session.authFailed() : session.authFailures() + 1;
    boolean drop = counted && failures >= session.config().auth().maxFailures();
    SmtpReply refused = reply(result, FAILED);
    SmtpReply sent = drop ? TOO_MANY_FAILURES : refused;
    // Exim's log line, with the reply the client was sent: the user name may be logged, the password never.
    String log = a.name() + " authenticator failed for " + session.hostForLog() + ": " + sent
        + (user == null ? "" : " (set_id=" + user.replaceAll("\\p{Cntrl}", "?") + ")")
        + (result.reason() == null ? "" : ": " + result.reason()) + (counted ? "" : " (not counted as a failure)");
    SessionResponse response = drop
        ? SessionResponse.close(TOO_MANY_FAILURES, CloseReason.BAD_COMMANDS).withLog(log + "; too many failures, connection dropped")
        : exchangeOver(session, SessionResponse.reply(refused)).withLog(log);
    long delay = session.config().auth().failureDelay().toMillis() << Math.min(failures - 1, 4);
    if (delay <= 0) {
      return Future.succeededFuture(response);
    }
    Promise<SessionResponse> later = Promise.promise();
    vertx.setTimer(delay, t -> later.complete(response));
    return later.future();
  }

  /** The exchange is over: the decoder frames command lines again, up to the longest a verb may get. */
  private static SessionResponse exchangeOver(SmtpSession session, SessionResponse r) {
    return r.withLineLimit(CommandLineLimits.ceiling(session.config().commandLineMax()));
  }

  private static Parsed<Request> sync(SmtpReply reply) {
    return Parsed.response(SessionResponse.reply(reply).syncPoint(true));
  }
}
