package org.postern.session;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import org.postern.smtp.Replies;

/** ETRN (RFC 1985): subject to the etrn ACL; starting the queue run comes with the queue. */
final class EtrnCommand implements SmtpCommand {
  @Override
  public Future<SessionResponse> execute(SmtpSession session, String argument) {
    String arg = argument.strip();
    if (arg.isEmpty()) {
      return MailCommand.done(Replies.SYNTAX_ERROR.withText("ETRN requires a domain"));
    }
    if (session.transaction().hasSender()) {
      return MailCommand.done(Replies.BAD_SEQUENCE.withText("ETRN not permitted inside a transaction"));
    }
    JsonObject vars = session.variables().put("domain", arg.startsWith("#") || arg.startsWith("@")
        ? arg.substring(1) : arg).put("etrn_argument", arg);
    return session.check("etrn", vars).map(verdict -> SessionResponse.reply(
        verdict.accepted() ? Replies.ETRN_OK : SmtpSession.refusal("etrn", verdict)).syncPoint(true));
  }
}
