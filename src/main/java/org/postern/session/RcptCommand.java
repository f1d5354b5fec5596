package org.postern.session;

import io.vertx.core.Future;
import org.postern.bus.AclVerdict;
import org.postern.bus.SessionResponse;
import org.postern.smtp.MailPath;
import org.postern.smtp.MailPathException;
import org.postern.smtp.Replies;
import org.postern.smtp.SmtpReply;

import java.util.Locale;

/** RCPT TO (RFC 5321 4.1.1.3): each recipient is put to the rcpt ACL. */
final class RcptCommand implements SmtpCommand {
  private static final SmtpReply MAIL_FIRST = Replies.BAD_SEQUENCE.withText("MAIL first");
  private static final SmtpReply BAD_RECIPIENT = SmtpReply.of(501, "5.1.3", "Bad recipient address syntax");

  @Override
  public Future<SessionResponse> execute(SmtpSession session, String argument) {
    if (!session.transaction().hasSender()) {
      return MailCommand.done(session.greeted() ? MAIL_FIRST : MailCommand.HELO_FIRST);
    }
    String path = afterPrefix(argument, "TO:");
    if (path == null) {
      return MailCommand.done(Replies.SYNTAX_ERROR.withText("Syntax: RCPT TO:<address>"));
    }
    MailPath parsed;
    try {
      parsed = MailPath.parse(path, false);
    } catch (MailPathException e) {
      return MailCommand.done(e.kind() == MailPathException.Kind.BAD_PARAMETER
          ? MailCommand.MALFORMED_PARAMETER : BAD_RECIPIENT);
    }
    if (!parsed.parameters().isEmpty()) {
      return MailCommand.done(Replies.PARAMETER_UNRECOGNIZED.withText(
          "Unsupported RCPT parameter " + parsed.parameters().keySet().iterator().next()));
    }
    // RFC 5321 4.1.1.3: <postmaster> without a domain is the postmaster of this host.
    MailPath recipient = parsed.domain().isEmpty()
        ? new MailPath(parsed.localPart(), session.config().primaryHostname(), parsed.parameters())
        : parsed;
    if (session.transaction().acceptedCount() >= session.config().recipientsMax()) {
      return MailCommand.done(Replies.TOO_MANY_RECIPIENTS);
    }
    return session.check("rcpt", SmtpSession.withAddress(session.variables(), recipient)).map(verdict -> {
      switch (verdict.type()) {
        case ACCEPT -> session.transaction().recipients().add(recipient);
        case DISCARD -> session.transaction().discardRecipient();
        default -> {
          SmtpReply refusal = SmtpSession.refusal("rcpt", verdict);
          String log = session.hostForLog() + " F=<" + session.transaction().sender().address() + "> "
              + (refusal.isTransientFailure() ? "temporarily rejected" : "rejected") + " RCPT <"
              + recipient.address() + ">: " + refusal.text();
          return (verdict.type() == AclVerdict.Type.DROP ? SessionResponse.close(refusal)
              : SessionResponse.reply(refusal)).withLog(log);
        }
      }
      return SessionResponse.reply(Replies.RECIPIENT_OK);
    });
  }

  /** The text after {@code FROM:}/{@code TO:} (case-insensitive), or null when the prefix is missing. */
  static String afterPrefix(String argument, String prefix) {
    if (argument.length() < prefix.length()
        || !argument.substring(0, prefix.length()).toUpperCase(Locale.ROOT).equals(prefix)) {
      return null;
    }
    return argument.substring(prefix.length());
  }
}
