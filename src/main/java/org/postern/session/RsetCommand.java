package org.postern.session;

import io.vertx.core.Future;
import org.postern.bus.SessionAction;
import org.postern.bus.SessionResponse;
import org.postern.smtp.Replies;

/** RSET (RFC 5321 4.1.1.5): drop the transaction (and a message half received in BDAT chunks), keep the HELO state. */
final class RsetCommand implements SmtpCommand {
  @Override
  public Future<SessionResponse> execute(SmtpSession session, String argument) {
    if (!argument.isBlank()) {
      return MailCommand.done(Replies.SYNTAX_ERROR.withText("RSET takes no argument"));
    }
    boolean chunks = session.transaction().chunked();
    session.resetTransaction();
    // Between BDAT chunks the listener holds a partial message: it goes (RFC 3030 4.1).
    return Future.succeededFuture(chunks ? new SessionResponse(Replies.RESET_OK, SessionAction.ABORT, false, null, null)
        : SessionResponse.reply(Replies.RESET_OK));
  }
}
