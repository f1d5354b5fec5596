package org.postern.session;

import org.postern.net.InternationalDomain;
import org.postern.smtp.MailPath;
import org.postern.smtp.Replies;
import org.postern.smtp.SmtpReply;

/**
 * The SMTPUTF8 (RFC 6531) and REQUIRETLS (RFC 8689) parameters of MAIL, and what SMTPUTF8 lets
 * an address of MAIL or RCPT hold.
 */
final class MailExtensions {
  static final String SMTPUTF8 = "SMTPUTF8";
  static final String REQUIRETLS = "REQUIRETLS";

  /** RFC 6531 3.4 and RFC 8689 4: neither keyword takes a value. */
  private static final SmtpReply VALUE_GIVEN = Replies.SYNTAX_ERROR.withText("SMTPUTF8 and REQUIRETLS take no value");
  private static final SmtpReply UTF8_NOT_OFFERED = Replies.PARAMETER_UNRECOGNIZED.withText("SMTPUTF8 not advertised");
  private static final SmtpReply REQUIRETLS_NOT_OFFERED = Replies.PARAMETER_UNRECOGNIZED.withText("REQUIRETLS not advertised");
  /** RFC 8689 4.1: REQUIRETLS outside TLS; 5.7.10 is "Encryption needed" (RFC 5248 registry). */
  private static final SmtpReply REQUIRETLS_IN_CLEAR = SmtpReply.of(530, "5.7.10", "REQUIRETLS needs a TLS session");
  /**
   * RFC 6531 3.6.1 / RFC 6533 3: 553 with 5.6.7 "Non-ASCII addresses not permitted for that
   * sender/recipient"; invalid UTF-8 gets it too, as nothing non-ASCII can be accepted from it.
   */
  private static final SmtpReply NEEDS_UTF8 = SmtpReply.of(553, "5.6.7", "Non-ASCII address needs SMTPUTF8");
  private static final SmtpReply INVALID_UTF8 = SmtpReply.of(553, "5.6.7", "Address is not valid UTF-8");
  /** RFC 3463: 5.1.7 is a bad sender's address, 5.1.3 a bad destination address. */
  private static final SmtpReply BAD_SENDER_DOMAIN = SmtpReply.of(553, "5.1.7", "Sender domain is not a valid IDNA2008 name");
  private static final SmtpReply BAD_RECIPIENT_DOMAIN = SmtpReply.of(553, "5.1.3", "Recipient domain is not a valid IDNA2008 name");

  private MailExtensions() {
  }

  static boolean isExtension(String keyword) {
    return keyword.equals(SMTPUTF8) || keyword.equals(REQUIRETLS);
  }

  /** Why one of these MAIL parameters is refused here, or null when it is accepted. */
  static SmtpReply parameterRefusal(SmtpSession session, String keyword, String value) {
    if (!value.isEmpty()) {
      return VALUE_GIVEN;
    }
    if (keyword.equals(SMTPUTF8)) {
      return session.offersSmtpUtf8() ? null : UTF8_NOT_OFFERED;
    }
    if (session.tls() == null) {
      return REQUIRETLS_IN_CLEAR;
    }
    return session.offersRequireTls() ? null : REQUIRETLS_NOT_OFFERED;
  }

  /**
   * Why an address of MAIL ({@code sender}) or RCPT is refused for its characters, or null.
   *
   * @param smtpUtf8 the transaction has SMTPUTF8
   */
  static SmtpReply addressRefusal(MailPath path, boolean smtpUtf8, boolean sender) {
    // The command line is decoded as UTF-8 with malformed input replaced by U+FFFD, so that
    // character stands for invalid UTF-8 (and is no character of any real mailbox).
    if (path.address().indexOf('\uFFFD') >= 0) {
      return INVALID_UTF8;
    }
    if (!smtpUtf8) {
      return path.requiresSmtpUtf8() ? NEEDS_UTF8 : null;
    }
    String domain = path.domain();
    if (domain.isEmpty() || domain.startsWith("[")) {
      return null;
    }
    return InternationalDomain.toAscii(domain) == null ? (sender ? BAD_SENDER_DOMAIN : BAD_RECIPIENT_DOMAIN) : null;
  }
}
