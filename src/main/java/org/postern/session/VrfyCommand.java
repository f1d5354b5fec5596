package org.postern.session;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import org.postern.bus.AclVerdict;
import org.postern.bus.AclStage;
import org.postern.bus.SessionResponse;
import org.postern.smtp.MailPath;
import org.postern.smtp.MailPathException;
import org.postern.smtp.Replies;
import org.postern.smtp.SmtpReply;

/**
 * VRFY (RFC 5321 4.1.1.6, 3.5.3). Without {@code acl_smtp_vrfy} the answer is 252, which tells an
 * address harvester nothing; when the ACL accepts, the address is really verified.
 */
final class VrfyCommand extends PolicedCommand<String, VrfyCommand.Request> implements SmtpCommand {
  VrfyCommand() {
    super(AclStage.VRFY, true);
  }

  /** The argument as given and the address it names (the domain defaults to the primary host name). */
  record Request(String argument, MailPath address) {
  }

  @Override
  Parsed<Request> parse(SmtpSession session, String argument) {
    String arg = argument.strip();
    if (arg.isEmpty()) {
      return Parsed.reply(Replies.SYNTAX_ERROR.withText("VRFY requires an address"));
    }
    if (session.config().aclForStage(AclStage.VRFY) == null) {
      return Parsed.reply(Replies.CANNOT_VRFY);
    }
    MailPath path;
    try {
      path = MailPath.parse(arg.startsWith("<") ? arg : "<" + arg + ">", false);
    } catch (MailPathException e) {
      return Parsed.reply(SmtpReply.of(501, "5.1.3", "Bad address syntax"));
    }
    String domain = path.domain().isEmpty() ? session.config().primaryHostname() : path.domain();
    return Parsed.request(new Request(arg, new MailPath(path.localPart(), domain, path.parameters())));
  }

  @Override
  JsonObject variables(SmtpSession session, Request vrfy) {
    return SmtpSession.withAddress(session.variables(), vrfy.address());
  }

  @Override
  String refusalLog(SmtpSession session, Request vrfy, AclVerdict verdict, SmtpReply refusal) {
    return session.hostForLog() + " " + rejected(verdict) + " VRFY " + vrfy.argument() + ": " + refusal.text();
  }

  @Override
  Future<SessionResponse> accepted(SmtpSession session, Request vrfy, AclVerdict verdict) {
    MailPath address = vrfy.address();
    if (!session.config().localDomains().matches(address.domain())) {
      return MailCommand.done(Replies.CANNOT_VRFY);
    }
    if (!session.config().users().exists(address.localPart())) {
      return MailCommand.done(Replies.MAILBOX_UNKNOWN.withText("<" + address.address() + ">: Unknown user"));
    }
    return MailCommand.done(SmtpReply.of(250, "2.1.5", "<" + address.address() + ">"));
  }
}
