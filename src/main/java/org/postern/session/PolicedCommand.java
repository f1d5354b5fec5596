package org.postern.session;

import org.postern.bus.SessionAction;
import org.postern.bus.SessionResponse;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import org.postern.bus.AclVerdict;
import org.postern.bus.AclStage;
import org.postern.bus.FilterHook;
import org.postern.bus.FilterRequest;
import org.postern.bus.FilterVerdict;
import org.postern.log.MainLog;
import org.postern.smtp.SmtpReply;

/**
 * The template of every command that is put to an ACL stage, in the shape of Apache James's
 * hookable command handlers and Exim's {@code smtp_handle_acl_fail}: one flow, so no command can
 * forget a verdict.
 * <ol>
 *   <li>{@link #parse}: sequence and syntax, without I/O. A response here ends the command; the
 *       policy is not asked.</li>
 *   <li>{@link #precheck}: checks before the ACL that need I/O (AUTH's failure window, the spool's
 *       free space). A response ends the command.</li>
 *   <li>{@link #policy}: the stage's ACL, through {@link SmtpSession#check}.</li>
 *   <li>{@link #decide}: the one place where a verdict becomes the reply, the main-log line and the
 *       action. {@code deny} and {@code defer} reply with the stage's refusal
 *       ({@link SmtpSession#refusal}) and go on ({@link #refusalResponse}); {@code drop} replies the
 *       same and closes the connection, at every stage (Exim); {@code accept} and {@code discard}
 *       go to the command's state change.</li>
 *   <li>{@link #filtered}: when a session filter is deployed and the ACL accepted, the filters'
 *       verdict at the command's {@link #filterHook} (a milter's reject, tempfail or discard).</li>
 *   <li>{@link #accepted} / {@link #discarded}: the state change and the positive reply.</li>
 * </ol>
 *
 * @param <I> the command's input: the argument of a command line, the listener's facts at the end of DATA
 * @param <R> what {@link #parse} made of the input, handed to the later steps
 */
abstract class PolicedCommand<I, R> {
  private final AclStage stage;
  private final boolean endsGroup;

  /**
   * @param endsGroup RFC 2920 3.1: the command ends a pipelining group, so every reply from the
   *                  policy on is a synchronization point
   */
  PolicedCommand(AclStage stage, boolean endsGroup) {
    this.stage = stage;
    this.endsGroup = endsGroup;
  }

  /** What {@link #parse} made of the input: the request to put to policy, or the response that ends the command. */
  record Parsed<R>(R request, SessionResponse response) {
    static <R> Parsed<R> request(R request) {
      return new Parsed<>(request, null);
    }

    static <R> Parsed<R> reply(SmtpReply reply) {
      return new Parsed<>(null, SessionResponse.reply(reply));
    }

    static <R> Parsed<R> response(SessionResponse response) {
      return new Parsed<>(null, response);
    }
  }

  public final Future<SessionResponse> execute(SmtpSession session, I input) {
    Parsed<R> parsed = parse(session, input);
    if (parsed.response() != null) {
      return Future.succeededFuture(parsed.response());
    }
    R request = parsed.request();
    return precheck(session, request)
        .compose(stopped -> stopped != null ? Future.succeededFuture(stopped)
            : policy(session, request).compose(verdict -> decide(session, request, verdict)))
        .map(response -> endsGroup ? response.syncPoint(true) : response);
  }

  /** Step 1: sequence and syntax checks. */
  abstract Parsed<R> parse(SmtpSession session, I input);

  /** Step 2: a response that ends the command before the ACL is asked, or null to go on. */
  Future<SessionResponse> precheck(SmtpSession session, R request) {
    return Future.succeededFuture();
  }

  /** Step 3: the verdict of the stage's ACL. */
  Future<AclVerdict> policy(SmtpSession session, R request) {
    return session.check(stage, () -> variables(session, request));
  }

  /** The variables the stage's ACL sees. */
  abstract JsonObject variables(SmtpSession session, R request);

  /** Step 5: the ACL accepted; change the session and reply. */
  abstract Future<SessionResponse> accepted(SmtpSession session, R request, AclVerdict verdict);

  /** Step 5 for {@code discard}: as far as the client sees, an acceptance (Exim). */
  Future<SessionResponse> discarded(SmtpSession session, R request, AclVerdict verdict) {
    return accepted(session, request, verdict);
  }

  /** False where the ACL cannot refuse (QUIT): every verdict goes to {@link #accepted}. */
  boolean refusable() {
    return true;
  }

  /** Exim's main-log line for a refusal at this command, or null where it writes none. */
  String refusalLog(SmtpSession session, R request, AclVerdict verdict, SmtpReply refusal) {
    return null;
  }

  /** What {@code rejectlog} shows below a refusal's line: nothing, except where the message is known. */
  String rejectLogDetail(SmtpSession session, R request) {
    return null;
  }

  /** What the listener does after a {@code deny} or {@code defer}: read the next command. */
  SessionAction refusalAction() {
    return SessionAction.CONTINUE;
  }

  /** The response to a {@code deny} or {@code defer} (of the ACL or a filter): the refusal, then {@link #refusalAction}. */
  SessionResponse refusalResponse(R request, SmtpReply refusal, String log) {
    return new SessionResponse(refusal, refusalAction(), false, null, log);
  }

  /** Step 4. */
  private Future<SessionResponse> decide(SmtpSession session, R request, AclVerdict verdict) {
    if (!refusable()) {
      return accepted(session, request, verdict);
    }
    return switch (verdict.type()) {
      case ACCEPT -> filterHook() != null && session.filtering() ? filtered(session, request, verdict)
          : accepted(session, request, verdict);
      case DISCARD -> discarded(session, request, verdict);
      case DENY, DEFER, DROP -> Future.succeededFuture(refused(session, request, verdict));
    };
  }

  /** The session-filter hook of this command (after the ACL accepted, before the reply), or null for none. */
  FilterHook filterHook() {
    return null;
  }

  /** The hook's argument: the HELO name, the MAIL or RCPT path as the client gave it. */
  String filterArgument(R request) {
    return null;
  }

  /**
   * Step 4b, only when a session filter is deployed: the filters' verdict. {@code reject} and
   * {@code tempfail} refuse as the ACL would, with the filter's reply; {@code discard} accepts and
   * marks the message (or, at HELO, every message of the connection) to be dropped.
   */
  private Future<SessionResponse> filtered(SmtpSession session, R request, AclVerdict verdict) {
    FilterRequest ask = FilterRequest.of(session.id(), filterHook(), variables(session, request), filterArgument(request));
    return session.filter(ask).compose(f -> switch (f.type()) {
      case REJECT, TEMPFAIL -> {
        SmtpReply refusal = SmtpSession.filterRefusal(f);
        AclVerdict as = AclVerdict.of(f.type() == FilterVerdict.Type.TEMPFAIL ? AclVerdict.Type.DEFER : AclVerdict.Type.DENY);
        yield Future.succeededFuture(refusalResponse(request, refusal, logRefusal(session, request, as, refusal)));
      }
      case DISCARD -> accepted(session, request, verdict).map(r -> {
        if (filterHook() == FilterHook.HELO) {
          session.filterDiscardsAll();
        } else {
          session.transaction().discardedByFilter();
        }
        return r;
      });
      default -> accepted(session, request, verdict);
    });
  }

  private SessionResponse refused(SmtpSession session, R request, AclVerdict verdict) {
    SmtpReply refusal = SmtpSession.refusal(stage, verdict);
    String log = logRefusal(session, request, verdict, refusal);
    if (verdict.type() != AclVerdict.Type.DROP) {
      return refusalResponse(request, refusal, log);
    }
    // Exim's line for a connection ended by drop (with log_selector +smtp_connection, here always).
    String closed = "SMTP connection from " + session.hostForLog() + " closed by DROP in ACL";
    return new SessionResponse(refusal, SessionAction.CLOSE, false, null, log == null ? closed : log + "\n" + closed);
  }

  /** The refusal's main-log line (null where there is none), written to {@code rejectlog} now. */
  String logRefusal(SmtpSession session, R request, AclVerdict verdict, SmtpReply refusal) {
    String log = refusalLog(session, request, verdict, refusal);
    if (log != null) {
      MainLog.reject(log, rejectLogDetail(session, request));
    }
    return log;
  }

  /** Exim's word for a refusal in the log: a {@code defer} is "temporarily rejected". */
  static String rejected(AclVerdict verdict) {
    return verdict.type() == AclVerdict.Type.DEFER ? "temporarily rejected" : "rejected";
  }
}
