package org.postern.session;

import io.vertx.core.Future;
import org.postern.bus.SessionResponse;
import org.postern.smtp.Replies;

/** RSET (RFC 5321 4.1.1.5): drop the transaction, keep the HELO state. */
final class RsetCommand implements SmtpCommand {
  @Override
  public Future<SessionResponse> execute(SmtpSession session, String argument) {
    if (!argument.isBlank()) {
      return MailCommand.done(Replies.SYNTAX_ERROR.withText("RSET takes no argument"));
    }
    session.resetTransaction();
    return MailCommand.done(Replies.RESET_OK);
  }
}
