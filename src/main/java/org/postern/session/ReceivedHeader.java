package org.postern.session;

import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * The {@code Received:} trace header (RFC 5321 4.4) Postern prepends, with the RFC 3848
 * with-protocol, folded as Exim folds it. The recipient is named only for single-recipient
 * messages, so one copy never reveals the other recipients.
 */
final class ReceivedHeader {
  private static final DateTimeFormatter RFC5322 =
      DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss Z", Locale.ROOT);

  private ReceivedHeader() {
  }

  static String build(SmtpSession session, String messageId, String singleRecipient, ZonedDateTime now) {
    StringBuilder sb = new StringBuilder(256).append("Received: ");
    if (session.isLocal()) {
      sb.append("from local");
    } else {
      // RFC 5321 4.4: the TCP-info is an address literal ("IPv6:" tagged for IPv6); the port follows
      // it in the same comment as Exim writes it, since "[addr]:port" is no address literal.
      String helo = session.heloName() == null ? "unknown" : session.heloName();
      String address = session.hostAddress();
      sb.append("from ").append(clean(helo)).append(" ([").append(address.indexOf(':') >= 0 ? "IPv6:" : "")
          .append(address).append("] port=").append(session.hostPort()).append(')');
    }
    sb.append("\r\n\tby ").append(session.config().primaryHostname()).append(" with ")
        .append(withProtocol(session));
    if (session.tls() != null) {
      sb.append(" (").append(clean(session.tls().getString("tls_cipher", ""))).append(')');
      String dn = session.tls().getString("tls_peerdn");
      if (dn != null) {
        sb.append("\r\n\t(peer DN ").append(cleanComment(dn)).append(')');
      }
    }
    sb.append(" (Postern)\r\n\t(envelope-from <")
        .append(clean(session.transaction().sender().address())).append(">)\r\n\tid ").append(messageId);
    if (singleRecipient != null) {
      sb.append("\r\n\tfor <").append(clean(singleRecipient)).append('>');
    }
    sb.append(";\r\n\t").append(RFC5322.format(now)).append("\r\n");
    return sb.toString();
  }

  /** RFC 3848 registered names for network sessions; Exim's local-* names otherwise. */
  private static String withProtocol(SmtpSession session) {
    return session.isLocal() ? session.protocol() : session.protocol().toUpperCase(Locale.ROOT);
  }

  /** Text inside a comment: spaces are fine, parentheses, backslashes and controls are not. */
  private static String cleanComment(String s) {
    return sanitize(s, false);
  }

  /** Client-supplied text must never break the header structure. */
  private static String clean(String s) {
    return sanitize(s, true);
  }

  private static String sanitize(String s, boolean noSpacesOrSemicolons) {
    StringBuilder out = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean bad = c < 0x20 || c == 0x7f || c == '(' || c == ')'
          || (noSpacesOrSemicolons ? c == ' ' || c == ';' : c == '\\');
      out.append(bad ? '?' : c);
    }
    return out.toString();
  }

}
