package org.postern.session;

import io.vertx.core.Future;
import org.postern.bus.AclVerdict;
import io.vertx.core.json.JsonObject;
import org.postern.bus.AclStage;
import org.postern.bus.FilterHook;
import org.postern.bus.SessionResponse;
import org.postern.smtp.MailPath;
import org.postern.smtp.MailPathException;
import org.postern.smtp.Replies;
import org.postern.smtp.SmtpReply;

import java.util.Locale;

/** RCPT TO (RFC 5321 4.1.1.3) with NOTIFY/ORCPT (RFC 3461): each recipient is put to the rcpt ACL. */
final class RcptCommand extends PolicedCommand<String, MailPath> implements SmtpCommand {
  private static final SmtpReply MAIL_FIRST = Replies.BAD_SEQUENCE.withText("MAIL first");
  private static final SmtpReply BAD_RECIPIENT = SmtpReply.of(501, "5.1.3", "Bad recipient address syntax");

  RcptCommand() {
    super(AclStage.RCPT, false);
  }

  @Override
  Parsed<MailPath> parse(SmtpSession session, String argument) {
    if (!session.transaction().hasSender()) {
      return Parsed.reply(session.greeted() ? MAIL_FIRST : MailCommand.HELO_FIRST);
    }
    String path = afterPrefix(argument, "TO:");
    if (path == null) {
      return Parsed.reply(Replies.SYNTAX_ERROR.withText("Syntax: RCPT TO:<address>"));
    }
    MailPath parsed;
    try {
      parsed = MailPath.parse(path, false);
    } catch (MailPathException e) {
      return Parsed.reply(e.kind() == MailPathException.Kind.BAD_PARAMETER ? MailCommand.MALFORMED_PARAMETER : BAD_RECIPIENT);
    }
    boolean dsn = session.offersDsn();
    for (String key : parsed.parameters().keySet()) {
      if (!dsn || !DsnParameters.isRcptParameter(key)) {
        return Parsed.reply(Replies.PARAMETER_UNRECOGNIZED.withText("Unsupported RCPT parameter " + key));
      }
    }
    if (dsn) {
      SmtpReply bad = DsnParameters.rcpt(parsed.parameters()).refusal();
      if (bad != null) {
        return Parsed.reply(bad);
      }
    }
    if (session.transaction().acceptedCount() >= session.config().recipientsMax()) {
      return Parsed.reply(Replies.TOO_MANY_RECIPIENTS);
    }
    // RFC 5321 4.1.1.3: <postmaster> without a domain is the postmaster of this host.
    return Parsed.request(parsed.domain().isEmpty()
        ? new MailPath(parsed.localPart(), session.config().primaryHostname(), parsed.parameters())
        : parsed);
  }

  @Override
  JsonObject variables(SmtpSession session, MailPath recipient) {
    return SmtpSession.withAddress(session.variables(), recipient);
  }

  @Override
  FilterHook filterHook() {
    return FilterHook.RCPT;
  }

  @Override
  String filterArgument(MailPath recipient) {
    return "<" + recipient.address() + ">";
  }

  @Override
  String refusalLog(SmtpSession session, MailPath recipient, AclVerdict verdict, SmtpReply refusal) {
    return session.hostForLog() + " F=<" + session.transaction().sender().address() + "> " + rejected(verdict)
        + " RCPT <" + recipient.address() + ">: " + refusal.text();
  }

  @Override
  Future<SessionResponse> accepted(SmtpSession session, MailPath recipient, AclVerdict verdict) {
    session.transaction().recipients().add(recipient);
    return MailCommand.done(Replies.RECIPIENT_OK);
  }

  /** Exim: a discarded recipient is accepted with 250 and then forgotten. */
  @Override
  Future<SessionResponse> discarded(SmtpSession session, MailPath recipient, AclVerdict verdict) {
    session.transaction().discardRecipient();
    return MailCommand.done(Replies.RECIPIENT_OK);
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
