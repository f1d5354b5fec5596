package org.postern.session;

import io.vertx.core.Future;
import org.postern.bus.SessionResponse;
import org.postern.smtp.Replies;

/** NOOP (RFC 5321 4.1.1.9): the argument, if any, is ignored. */
final class NoopCommand implements SmtpCommand {
  @Override
  public Future<SessionResponse> execute(SmtpSession session, String argument) {
    return MailCommand.done(Replies.NOOP_OK);
  }
}
