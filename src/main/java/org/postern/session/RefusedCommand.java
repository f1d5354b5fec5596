package org.postern.session;

import io.vertx.core.Future;
import org.postern.bus.SessionResponse;
import org.postern.smtp.SmtpReply;

/** A verb Postern knows and deliberately does not implement (TURN: RFC 2821 made it obsolete). */
final class RefusedCommand implements SmtpCommand {
  private final SmtpReply reply;

  RefusedCommand(SmtpReply reply) {
    this.reply = reply;
  }

  @Override
  public Future<SessionResponse> execute(SmtpSession session, String argument) {
    return MailCommand.done(reply);
  }
}
