package org.postern.session;

import io.vertx.core.Future;
import org.postern.bus.SessionResponse;
import org.postern.smtp.SmtpReply;

import java.util.List;

/** HELP (RFC 5321 4.1.1.8). */
final class HelpCommand implements SmtpCommand {
  private static final SmtpReply HELP = new SmtpReply(214, "2.0.0", List.of(
      "Commands supported:",
      "HELO EHLO STARTTLS AUTH MAIL RCPT DATA RSET NOOP QUIT HELP VRFY EXPN ETRN"));

  @Override
  public Future<SessionResponse> execute(SmtpSession session, String argument) {
    return MailCommand.done(HELP);
  }
}
