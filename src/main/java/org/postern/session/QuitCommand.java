package org.postern.session;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import org.postern.bus.AclVerdict;
import org.postern.bus.AclStage;
import org.postern.bus.SessionResponse;
import org.postern.smtp.Replies;
import org.postern.smtp.SmtpReply;

/** QUIT (RFC 5321 4.1.1.10): the quit ACL may only change the goodbye text, never refuse it. */
final class QuitCommand extends PolicedCommand<String, Void> implements SmtpCommand {
  QuitCommand() {
    super(AclStage.QUIT, false);
  }

  @Override
  Parsed<Void> parse(SmtpSession session, String argument) {
    if (!argument.isBlank()) {
      return Parsed.reply(Replies.SYNTAX_ERROR.withText("QUIT takes no argument"));
    }
    return Parsed.request(null);
  }

  @Override
  JsonObject variables(SmtpSession session, Void none) {
    return session.variables();
  }

  @Override
  boolean refusable() {
    return false;
  }

  @Override
  Future<SessionResponse> accepted(SmtpSession session, Void none, AclVerdict verdict) {
    SmtpReply bye = verdict.message() != null ? Replies.BYE.withText(verdict.message())
        : Replies.BYE.withText(session.config().primaryHostname() + " closing connection");
    return Future.succeededFuture(SessionResponse.close(bye));
  }
}
