package org.postern.session;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.postern.bus.AclVerdict;
import io.vertx.core.json.JsonObject;
import org.postern.bus.AclStage;
import org.postern.bus.FilterHook;
import org.postern.bus.SessionResponse;
import org.postern.smtp.MailPath;
import org.postern.smtp.MailPathException;
import org.postern.smtp.Replies;
import org.postern.smtp.SmtpReply;
import org.postern.smtp.XText;

import java.util.Locale;
import java.util.Map;

/** MAIL FROM (RFC 5321 4.1.1.2) with SIZE (RFC 1870), BODY (RFC 6152), AUTH (RFC 4954) and RET/ENVID (RFC 3461). */
final class MailCommand extends PolicedCommand<String, MailCommand.Request> implements SmtpCommand {
  static final SmtpReply HELO_FIRST = Replies.BAD_SEQUENCE.withText("EHLO or HELO first");
  private static final SmtpReply NESTED = Replies.BAD_SEQUENCE.withText("Sender already given");
  private static final SmtpReply BAD_SENDER = SmtpReply.of(501, "5.1.7", "Bad sender address syntax");
  /** RFC 5321: 555 is for parameters not recognized; a malformed one is a syntax error, 501. */
  static final SmtpReply MALFORMED_PARAMETER = Replies.SYNTAX_ERROR.withText("Syntax error in parameters");
  /** Exim's words, with RFC 3463's "mail system full". */
  static final SmtpReply NO_SPACE = SmtpReply.of(452, "4.3.1", "Space shortage, please try later");

  MailCommand() {
    super(AclStage.MAIL, false);
  }

  /** A syntactically valid MAIL: the sender and its parameters. */
  record Request(MailPath sender, long declaredSize, String bodyType, String authenticatedSender,
                 DsnParameters.Mail dsn) {
  }

  @Override
  Parsed<Request> parse(SmtpSession session, String argument) {
    if (!session.greeted()) {
      return Parsed.reply(HELO_FIRST);
    }
    if (session.transaction().hasSender()) {
      return Parsed.reply(NESTED);
    }
    String path = RcptCommand.afterPrefix(argument, "FROM:");
    if (path == null) {
      return Parsed.reply(Replies.SYNTAX_ERROR.withText("Syntax: MAIL FROM:<address>"));
    }
    MailPath sender;
    try {
      sender = MailPath.parse(path, true);
    } catch (MailPathException e) {
      return Parsed.reply(e.kind() == MailPathException.Kind.BAD_PARAMETER ? MALFORMED_PARAMETER : BAD_SENDER);
    }
    long size = -1;
    String body = "7BIT";
    String authSender = null;
    if (!sender.parameters().isEmpty() && !session.esmtp()) {
      return Parsed.reply(Replies.PARAMETER_UNRECOGNIZED.withText("MAIL parameters need EHLO"));
    }
    boolean dsn = session.offersDsn();
    for (Map.Entry<String, String> p : sender.parameters().entrySet()) {
      String value = p.getValue();
      if (dsn && DsnParameters.isMailParameter(p.getKey())) {
        continue;
      }
      switch (p.getKey()) {
        case "SIZE" -> {
          // RFC 1870: 1*20DIGIT; anything longer than a long holds is over any limit.
          if (value == null || !value.matches("\\d{1,20}")) {
            return Parsed.reply(Replies.SYNTAX_ERROR.withText("SIZE requires a number"));
          }
          size = value.length() > 18 ? Long.MAX_VALUE : Long.parseLong(value);
          if (size > session.config().messageSizeLimit()) {
            return Parsed.reply(Replies.MESSAGE_TOO_BIG);
          }
        }
        case "BODY" -> {
          String v = value == null ? "" : value.toUpperCase(Locale.ROOT);
          if (!v.equals("7BIT") && !v.equals("8BITMIME")) {
            return Parsed.reply(Replies.SYNTAX_ERROR.withText("BODY must be 7BIT or 8BITMIME"));
          }
          body = v;
        }
        case "AUTH" -> {
          String decoded = XText.decode(value);
          if (decoded == null) {
            return Parsed.reply(Replies.SYNTAX_ERROR.withText("Invalid AUTH= value (xtext)"));
          }
          // RFC 4954 5: only an authenticated, trusted client may vouch for another sender.
          authSender = session.authenticated() ? decoded : "<>";
        }
        default -> {
          return Parsed.reply(Replies.PARAMETER_UNRECOGNIZED.withText("Unsupported MAIL parameter " + p.getKey()));
        }
      }
    }
    DsnParameters.Result<DsnParameters.Mail> dsnParameters = dsn
        ? DsnParameters.mail(sender.parameters()) : DsnParameters.Result.ok(DsnParameters.Mail.NONE);
    if (dsnParameters.refusal() != null) {
      return Parsed.reply(dsnParameters.refusal());
    }
    return Parsed.request(new Request(sender, size, body, authSender, dsnParameters.value()));
  }

  /** Exim's check_spool_space/check_spool_inodes (and the log's), with SIZE= counted, before the ACL. */
  @Override
  Future<SessionResponse> precheck(SmtpSession session, Request mail) {
    // Commands run on the session verticle's context.
    Vertx vertx = Vertx.currentContext().owner();
    return StorageCheck.of(vertx).shortage(vertx, session.config(), mail.declaredSize()).map(shortage ->
        shortage == null ? null : SessionResponse.reply(NO_SPACE).withLog(session.hostForLog()
            + " temporarily rejected MAIL <" + mail.sender().address() + ">: " + shortage));
  }

  @Override
  JsonObject variables(SmtpSession session, Request mail) {
    return mail.dsn().addVariables(session.variables().put("sender_address", mail.sender().address()));
  }

  @Override
  FilterHook filterHook() {
    return FilterHook.MAIL;
  }

  @Override
  String filterArgument(Request mail) {
    return "<" + mail.sender().address() + ">" + parametersForFilter(mail.sender());
  }

  @Override
  String refusalLog(SmtpSession session, Request mail, AclVerdict verdict, SmtpReply refusal) {
    return session.hostForLog() + " " + rejected(verdict) + " MAIL <" + mail.sender().address() + ">: " + refusal.text();
  }

  @Override
  Future<SessionResponse> accepted(SmtpSession session, Request mail, AclVerdict verdict) {
    session.transaction().sender(mail.sender(), mail.declaredSize(), mail.bodyType());
    session.transaction().authenticatedSender(mail.authenticatedSender());
    session.transaction().dsn(mail.dsn());
    return done(Replies.SENDER_OK);
  }

  /** The ESMTP parameters as the client gave them, each after a space ({@code " SIZE=100 BODY=8BITMIME"}). */
  static String parametersForFilter(MailPath path) {
    StringBuilder sb = new StringBuilder();
    path.parameters().forEach((k, v) -> sb.append(' ').append(k).append(v == null ? "" : "=" + v));
    return sb.toString();
  }

  static Future<SessionResponse> done(SmtpReply reply) {
    return Future.succeededFuture(SessionResponse.reply(reply));
  }
}
