package org.postern.session;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import org.postern.bus.AclVerdict;
import org.postern.bus.AclStage;
import org.postern.bus.FilterHook;
import org.postern.bus.SessionResponse;
import org.postern.smtp.Replies;
import org.postern.smtp.SmtpReply;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/** HELO and EHLO (RFC 5321 4.1.1.1): a fresh transaction, and for EHLO the extension list. */
final class HeloCommand extends PolicedCommand<String, String> implements SmtpCommand {
  /** A domain (Exim also allows '_', which real clients send) or an address literal. */
  private static final Pattern HELO_NAME = Pattern.compile(
      "[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?\\.?|\\[[0-9A-Fa-f:.]+]|\\[IPv6:[0-9A-Fa-f:.]+]");
  private final boolean extended;

  HeloCommand(boolean extended) {
    super(AclStage.HELO, true);
    this.extended = extended;
  }

  private String verb() {
    return extended ? "EHLO" : "HELO";
  }

  @Override
  Parsed<String> parse(SmtpSession session, String argument) {
    String name = argument.strip();
    if (name.isEmpty()) {
      return Parsed.reply(Replies.SYNTAX_ERROR.withText(verb() + " requires domain address"));
    }
    if (!HELO_NAME.matcher(name).matches()) {
      return Parsed.reply(SmtpReply.of(501, "5.5.2", "Syntactically invalid " + verb() + " argument(s)"));
    }
    return Parsed.request(name);
  }

  @Override
  JsonObject variables(SmtpSession session, String name) {
    return session.variables().put("sender_helo_name", name);
  }

  @Override
  FilterHook filterHook() {
    return FilterHook.HELO;
  }

  @Override
  String filterArgument(String name) {
    return name;
  }

  @Override
  String refusalLog(SmtpSession session, String name, AclVerdict verdict, SmtpReply refusal) {
    return "rejected " + verb() + " from " + session.hostForLog() + ": " + refusal.text();
  }

  @Override
  Future<SessionResponse> accepted(SmtpSession session, String name, AclVerdict verdict) {
    session.greeted(name, extended);
    String hello = session.config().primaryHostname() + " Hello " + name
        + (session.isLocal() ? "" : " [" + session.hostAddress() + "]");
    if (!extended) {
      return Future.succeededFuture(SessionResponse.reply(SmtpReply.of(250, null, hello)));
    }
    List<String> lines = new ArrayList<>();
    lines.add(hello);
    lines.add("SIZE " + session.config().messageSizeLimit());
    lines.add("8BITMIME");
    if (session.pipeliningOffered()) {
      lines.add("PIPELINING");
    }
    lines.add("ENHANCEDSTATUSCODES");
    if (session.offersDsn()) {
      lines.add("DSN");
    }
    if (session.offersChunking()) {
      lines.add("CHUNKING");
    }
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
    return Future.succeededFuture(SessionResponse.reply(new SmtpReply(250, null, lines)));
  }
}
