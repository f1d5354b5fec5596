package org.postern.session;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import org.postern.bus.AclVerdict;
import org.postern.bus.AclStage;
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
final class ExpnCommand extends PolicedCommand<String, ExpnCommand.Request> implements SmtpCommand {
  ExpnCommand() {
    super(AclStage.EXPN, true);
  }

  /** The argument as given, the list name without angle brackets and its two parts. */
  record Request(String argument, String name, String localPart, String domain) {
  }

  @Override
  Parsed<Request> parse(SmtpSession session, String argument) {
    String arg = argument.strip();
    if (arg.isEmpty()) {
      return Parsed.reply(Replies.SYNTAX_ERROR.withText("EXPN requires a list name"));
    }
    String name = arg.startsWith("<") && arg.endsWith(">") ? arg.substring(1, arg.length() - 1) : arg;
    int at = name.lastIndexOf('@');
    String localPart = at < 0 ? name : name.substring(0, at);
    String domain = at < 0 ? session.config().primaryHostname() : name.substring(at + 1);
    return Parsed.request(new Request(arg, name, localPart, domain));
  }

  @Override
  JsonObject variables(SmtpSession session, Request expn) {
    return session.variables().put("local_part", expn.localPart()).put("domain", expn.domain());
  }

  @Override
  String refusalLog(SmtpSession session, Request expn, AclVerdict verdict, SmtpReply refusal) {
    return session.hostForLog() + " " + rejected(verdict) + " EXPN " + expn.argument() + ": " + refusal.text();
  }

  @Override
  Future<SessionResponse> accepted(SmtpSession session, Request expn, AclVerdict verdict) {
    String localPart = expn.localPart();
    if (!session.config().localDomains().matches(expn.domain()) || !session.config().users().exists(localPart)) {
      return MailCommand.done(Replies.MAILBOX_UNKNOWN.withText("<" + expn.name() + ">: Unknown user"));
    }
    List<String> members = session.config().users().aliasMembers(localPart);
    if (members.isEmpty()) {
      members = List.of(localPart.toLowerCase(Locale.ROOT));
    }
    List<String> lines = new ArrayList<>();
    for (String m : members) {
      lines.add("<" + (m.indexOf('@') >= 0 ? m : m + "@" + session.config().primaryHostname()) + ">");
    }
    return MailCommand.done(new SmtpReply(250, "2.1.5", lines));
  }
}
