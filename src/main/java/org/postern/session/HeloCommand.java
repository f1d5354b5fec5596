package org.postern.session;

import io.vertx.core.Future;
import org.postern.bus.SessionResponse;
import org.postern.smtp.Replies;
import org.postern.smtp.SmtpReply;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/** HELO and EHLO (RFC 5321 4.1.1.1): a fresh transaction, and for EHLO the extension list. */
final class HeloCommand implements SmtpCommand {
  /** A domain (Exim also allows '_', which real clients send) or an address literal. */
  private static final Pattern HELO_NAME = Pattern.compile(
      "[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?\\.?|\\[[0-9A-Fa-f:.]+]|\\[IPv6:[0-9A-Fa-f:.]+]");
  private final boolean extended;

  HeloCommand(boolean extended) {
    this.extended = extended;
  }

  @Override
  public Future<SessionResponse> execute(SmtpSession session, String argument) {
    String verb = extended ? "EHLO" : "HELO";
    String name = argument.strip();
    if (name.isEmpty()) {
      return Future.succeededFuture(SessionResponse.reply(Replies.SYNTAX_ERROR.withText(verb + " requires domain address")));
    }
    if (!HELO_NAME.matcher(name).matches()) {
      return Future.succeededFuture(SessionResponse.reply(
          SmtpReply.of(501, "5.5.2", "Syntactically invalid " + verb + " argument(s)")));
    }
    return session.check("helo", session.variables().put("sender_helo_name", name)).map(verdict -> {
      if (!verdict.accepted()) {
        SmtpReply refusal = SmtpSession.refusal("helo", verdict);
        String log = "rejected " + verb + " from " + session.hostForLog() + ": " + refusal.text();
        return (verdict.type() == org.postern.bus.AclVerdict.Type.DROP
            ? SessionResponse.close(refusal) : SessionResponse.reply(refusal)).withLog(log);
      }
      session.greeted(name, extended);
      String hello = session.config().primaryHostname() + " Hello " + name
          + (session.isLocal() ? "" : " [" + session.hostAddress() + "]");
      if (!extended) {
        return SessionResponse.reply(SmtpReply.of(250, null, hello)).syncPoint(true);
      }
      List<String> lines = new ArrayList<>();
      lines.add(hello);
      lines.add("SIZE " + session.config().messageSizeLimit());
      lines.add("8BITMIME");
      if (session.pipeliningOffered()) {
        lines.add("PIPELINING");
      }
      lines.add("ENHANCEDSTATUSCODES");
      lines.add("HELP");
      if (session.offersStartTls()) {
        lines.add("STARTTLS");
      }
      if (session.offersAuth()) {
        String mechanisms = session.config().auth().authenticators().stream().filter(session::offersMechanism)
            .map(a -> a.publicName()).collect(java.util.stream.Collectors.joining(" "));
        if (!mechanisms.isEmpty()) {
          lines.add("AUTH " + mechanisms);
        }
      }
      return SessionResponse.reply(new SmtpReply(250, null, lines)).syncPoint(true);
    });
  }
}
