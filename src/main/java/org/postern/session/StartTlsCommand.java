package org.postern.session;

import io.vertx.core.Future;
import org.postern.bus.AclVerdict;
import org.postern.bus.SessionAction;
import org.postern.bus.SessionResponse;
import org.postern.smtp.Replies;
import org.postern.smtp.SmtpReply;

/**
 * STARTTLS (RFC 3207). Refused when not offered, when already in TLS and after AUTH (a session
 * authenticated in clear must not be carried into TLS: "NO STARTTLS", USENIX Security 2021).
 * STARTTLS must end its pipelining group: input after it is discarded, never executed in TLS.
 */
final class StartTlsCommand implements SmtpCommand {
  static final SmtpReply READY = SmtpReply.of(220, "2.0.0", "Ready to start TLS");
  private static final SmtpReply NOT_OFFERED = Replies.BAD_SEQUENCE.withText("STARTTLS command used when not advertised");
  private static final SmtpReply ALREADY = Replies.BAD_SEQUENCE.withText("Already in TLS");

  @Override
  public Future<SessionResponse> execute(SmtpSession session, String argument) {
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
    return session.check("starttls", session.variables()).map(verdict -> {
      if (!verdict.accepted()) {
        SmtpReply refusal = SmtpSession.refusal("starttls", verdict);
        return (verdict.type() == AclVerdict.Type.DROP ? SessionResponse.close(refusal)
            : SessionResponse.reply(refusal)).syncPoint(true);
      }
      return new SessionResponse(READY, SessionAction.STARTTLS, true, null, null);
    });
  }

  private static Future<SessionResponse> sync(SmtpReply reply) {
    return Future.succeededFuture(SessionResponse.reply(reply).syncPoint(true));
  }
}
