package org.postern.session;

import io.vertx.core.Future;
import org.postern.bus.AclVerdict;
import org.postern.bus.SessionResponse;
import org.postern.smtp.MailPath;
import org.postern.smtp.MailPathException;
import org.postern.smtp.Replies;
import org.postern.smtp.SmtpReply;

import java.util.Locale;
import java.util.Map;

/** MAIL FROM (RFC 5321 4.1.1.2) with SIZE (RFC 1870) and BODY (RFC 6152). */
final class MailCommand implements SmtpCommand {
  static final SmtpReply HELO_FIRST = Replies.BAD_SEQUENCE.withText("EHLO or HELO first");
  private static final SmtpReply NESTED = Replies.BAD_SEQUENCE.withText("Sender already given");
  private static final SmtpReply BAD_SENDER = SmtpReply.of(501, "5.1.7", "Bad sender address syntax");
  /** RFC 5321: 555 is for parameters not recognized; a malformed one is a syntax error, 501. */
  static final SmtpReply MALFORMED_PARAMETER = Replies.SYNTAX_ERROR.withText("Syntax error in parameters");

  @Override
  public Future<SessionResponse> execute(SmtpSession session, String argument) {
    if (!session.greeted()) {
      return done(HELO_FIRST);
    }
    if (session.transaction().hasSender()) {
      return done(NESTED);
    }
    String path = RcptCommand.afterPrefix(argument, "FROM:");
    if (path == null) {
      return done(Replies.SYNTAX_ERROR.withText("Syntax: MAIL FROM:<address>"));
    }
    MailPath sender;
    try {
      sender = MailPath.parse(path, true);
    } catch (MailPathException e) {
      return done(e.kind() == MailPathException.Kind.BAD_PARAMETER ? MALFORMED_PARAMETER : BAD_SENDER);
    }
    long size = -1;
    String body = "7BIT";
    String authSender = null;
    if (!sender.parameters().isEmpty() && !session.esmtp()) {
      return done(Replies.PARAMETER_UNRECOGNIZED.withText("MAIL parameters need EHLO"));
    }
    for (Map.Entry<String, String> p : sender.parameters().entrySet()) {
      String value = p.getValue();
      switch (p.getKey()) {
        case "SIZE" -> {
          // RFC 1870: 1*20DIGIT; anything longer than a long holds is over any limit.
          if (value == null || !value.matches("\\d{1,20}")) {
            return done(Replies.SYNTAX_ERROR.withText("SIZE requires a number"));
          }
          size = value.length() > 18 ? Long.MAX_VALUE : Long.parseLong(value);
          if (size > session.config().messageSizeLimit()) {
            return done(Replies.MESSAGE_TOO_BIG);
          }
        }
        case "BODY" -> {
          String v = value == null ? "" : value.toUpperCase(Locale.ROOT);
          if (!v.equals("7BIT") && !v.equals("8BITMIME")) {
            return done(Replies.SYNTAX_ERROR.withText("BODY must be 7BIT or 8BITMIME"));
          }
          body = v;
        }
        case "AUTH" -> {
          String decoded = xtext(value);
          if (decoded == null) {
            return done(Replies.SYNTAX_ERROR.withText("Invalid AUTH= value (xtext)"));
          }
          // RFC 4954 5: only an authenticated, trusted client may vouch for another sender.
          authSender = session.authenticated() ? decoded : "<>";
        }
        default -> {
          return done(Replies.PARAMETER_UNRECOGNIZED.withText("Unsupported MAIL parameter " + p.getKey()));
        }
      }
    }
    long declared = size;
    String bodyType = body;
    String vouched = authSender;
    return session.check("mail", session.variables().put("sender_address", sender.address())).map(verdict -> {
      if (!verdict.accepted()) {
        SmtpReply refusal = SmtpSession.refusal("mail", verdict);
        String log = session.hostForLog() + " " + (refusal.isTransientFailure() ? "temporarily rejected" : "rejected")
            + " MAIL <" + sender.address() + ">: " + refusal.text();
        return (verdict.type() == AclVerdict.Type.DROP ? SessionResponse.close(refusal)
            : SessionResponse.reply(refusal)).withLog(log);
      }
      session.transaction().sender(sender, declared, bodyType);
      session.transaction().authenticatedSender(vouched);
      return SessionResponse.reply(Replies.SENDER_OK);
    });
  }

  /** RFC 3461 xtext: "+XX" hex escapes, printable ASCII otherwise; null when malformed. */
  static String xtext(String value) {
    if (value == null || value.isEmpty()) {
      return null;
    }
    StringBuilder out = new StringBuilder(value.length());
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == '+') {
        if (i + 2 >= value.length() || !value.substring(i + 1, i + 3).matches("[0-9A-F]{2}")) {
          return null;
        }
        out.append((char) Integer.parseInt(value.substring(i + 1, i + 3), 16));
        i += 2;
      } else if (c < 33 || c > 126 || c == '=') {
        return null;
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }

  static Future<SessionResponse> done(SmtpReply reply) {
    return Future.succeededFuture(SessionResponse.reply(reply));
  }
}
