package org.postern.session;

import io.vertx.core.Future;
import org.postern.bus.SessionResponse;
import org.postern.smtp.Replies;
import org.postern.smtp.SmtpReply;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * EXPN (RFC 5321 4.1.1.7, 3.5.3): expands an alias of {@code conf/aliases}, one member per line,
 * for clients the expn ACL accepts (by default only loopback).
 */
final class ExpnCommand implements SmtpCommand {
  @Override
  public Future<SessionResponse> execute(SmtpSession session, String argument) {
    String arg = argument.strip();
    if (arg.isEmpty()) {
      return MailCommand.done(Replies.SYNTAX_ERROR.withText("EXPN requires a list name"));
    }
    String name = arg.startsWith("<") && arg.endsWith(">") ? arg.substring(1, arg.length() - 1) : arg;
    int at = name.lastIndexOf('@');
    String localPart = at < 0 ? name : name.substring(0, at);
    String domain = at < 0 ? session.config().primaryHostname() : name.substring(at + 1);
    var vars = session.variables().put("local_part", localPart).put("domain", domain);
    return session.check("expn", vars).map(verdict -> {
      if (!verdict.accepted()) {
        return SessionResponse.reply(SmtpSession.refusal("expn", verdict)).syncPoint(true);
      }
      if (!session.config().localDomains().matches(domain) || !session.config().users().exists(localPart)) {
        return SessionResponse.reply(Replies.MAILBOX_UNKNOWN.withText("<" + name + ">: Unknown user"))
            .syncPoint(true);
      }
      List<String> members = session.config().users().aliasMembers(localPart);
      if (members.isEmpty()) {
        members = List.of(localPart.toLowerCase(Locale.ROOT));
      }
      List<String> lines = new ArrayList<>();
      for (String m : members) {
        lines.add("<" + (m.indexOf('@') >= 0 ? m : m + "@" + session.config().primaryHostname()) + ">");
      }
      return SessionResponse.reply(new SmtpReply(250, "2.1.5", lines)).syncPoint(true);
    });
  }
}
