package org.postern.session;

import io.vertx.core.Future;
import org.postern.bus.SessionResponse;
import org.postern.smtp.Replies;
import org.postern.smtp.SmtpReply;

/** QUIT (RFC 5321 4.1.1.10): the quit ACL may only change the goodbye text, never refuse it. */
final class QuitCommand implements SmtpCommand {
  @Override
  public Future<SessionResponse> execute(SmtpSession session, String argument) {
    if (!argument.isBlank()) {
      return MailCommand.done(Replies.SYNTAX_ERROR.withText("QUIT takes no argument"));
    }
    return session.check("quit", session.variables()).map(verdict -> {
      SmtpReply bye = verdict.message() != null ? Replies.BYE.withText(verdict.message())
          : Replies.BYE.withText(session.config().primaryHostname() + " closing connection");
      return SessionResponse.close(bye);
    });
  }
}
