package org.postern.session;

import io.vertx.core.Future;
import org.postern.bus.SessionResponse;
import org.postern.smtp.MailPath;
import org.postern.smtp.MailPathException;
import org.postern.smtp.Replies;
import org.postern.smtp.SmtpReply;

/**
 * VRFY (RFC 5321 4.1.1.6, 3.5.3). Without {@code acl_smtp_vrfy} the answer is 252, which tells an
 * address harvester nothing; when the ACL accepts, the address is really verified.
 */
final class VrfyCommand implements SmtpCommand {
  @Override
  public Future<SessionResponse> execute(SmtpSession session, String argument) {
    String arg = argument.strip();
    if (arg.isEmpty()) {
      return MailCommand.done(Replies.SYNTAX_ERROR.withText("VRFY requires an address"));
    }
    if (session.config().aclForStage("vrfy") == null) {
      return MailCommand.done(Replies.CANNOT_VRFY);
    }
    MailPath path;
    try {
      path = MailPath.parse(arg.startsWith("<") ? arg : "<" + arg + ">", false);
    } catch (MailPathException e) {
      return MailCommand.done(SmtpReply.of(501, "5.1.3", "Bad address syntax"));
    }
    String domain = path.domain().isEmpty() ? session.config().primaryHostname() : path.domain();
    MailPath address = new MailPath(path.localPart(), domain, path.parameters());
    return session.check("vrfy", SmtpSession.withAddress(session.variables(), address)).map(verdict -> {
      if (!verdict.accepted()) {
        return SessionResponse.reply(SmtpSession.refusal("vrfy", verdict)).syncPoint(true);
      }
      boolean local = session.config().localDomains().matches(domain);
      if (!local) {
        return SessionResponse.reply(Replies.CANNOT_VRFY).syncPoint(true);
      }
      if (!session.config().users().exists(address.localPart())) {
        return SessionResponse.reply(Replies.MAILBOX_UNKNOWN.withText("<" + address.address() + ">: Unknown user"))
            .syncPoint(true);
      }
      return SessionResponse.reply(SmtpReply.of(250, "2.1.5", "<" + address.address() + ">")).syncPoint(true);
    });
  }
}
