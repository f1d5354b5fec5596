package org.postern.session;

import io.vertx.core.Future;
import org.postern.bus.AclVerdict;
import io.vertx.core.json.JsonObject;
import org.postern.bus.AclStage;
import org.postern.bus.SessionAction;
import org.postern.bus.SessionResponse;
import org.postern.smtp.Replies;
import org.postern.smtp.SmtpReply;

/**
 * STARTTLS (RFC 3207). Refused when not offered, when already in TLS and after AUTH (a session
 * authenticated in clear must not be carried into TLS: "NO STARTTLS", USENIX Security 2021).
 * STARTTLS must end its pipelining group: input after it is discarded, never executed in TLS.
 */
final class StartTlsCommand extends PolicedCommand<String, Void> implements SmtpCommand {
  static final SmtpReply READY = SmtpReply.of(220, "2.0.0", "Ready to start TLS");
  private static final SmtpReply NOT_OFFERED = Replies.BAD_SEQUENCE.withText("STARTTLS command used when not advertised");
  private static final SmtpReply ALREADY = Replies.BAD_SEQUENCE.withText("Already in TLS");

  StartTlsCommand() {
    super(AclStage.STARTTLS, true);
  }

  @Override
  Parsed<Void> parse(SmtpSession session, String argument) {
    if (!argument.isBlank()) {
      return sync(Replies.SYNTAX_ERROR.withText("STARTTLS takes no argument"));
    }
    if (session.tls() != null) {
      return sync(ALREADY);
    }
    if (session.authenticated()) {
      return sync(Replies.BAD_SEQUENCE.withText("STARTTLS not permitted after AUTH"));
    }
    if (!session.offersStartTls()) {
      return sync(NOT_OFFERED);
    }
    return Parsed.request(null);
  }

  @Override
  JsonObject variables(SmtpSession session, Void none) {
    return session.variables();
  }

  @Override
  Future<SessionResponse> accepted(SmtpSession session, Void none, AclVerdict verdict) {
    return Future.succeededFuture(new SessionResponse(READY, SessionAction.STARTTLS, true, null, null));
  }

  private static Parsed<Void> sync(SmtpReply reply) {
    return Parsed.response(SessionResponse.reply(reply).syncPoint(true));
  }
}
