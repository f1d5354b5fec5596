package org.postern.bus;

import java.util.Locale;

/**
 * The SMTP stages an ACL can be attached to ({@code acl_smtp_<stage>}, Exim's names). The wire form
 * (lower case) is what {@code postern.acl.check} carries and what {@code acl.yaml} and
 * {@code postern.yaml} spell.
 */
public enum AclStage {
  CONNECT, HELO, MAIL, RCPT, PREDATA, MIME, DATA, VRFY, EXPN, ETRN, QUIT, NOTQUIT, STARTTLS, AUTH;

  /** The stage's name as configuration and the bus spell it: {@code rcpt}, {@code notquit}, ... */
  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The main option that names this stage's ACL: {@code acl_smtp_rcpt}, ... */
  public String optionName() {
    return "acl_smtp_" + wire();
  }

  /**
   * True for the stages that belong to one message (MAIL to the end of DATA): headers added by an
   * ACL there go into that message, and message controls apply to it only (Exim).
   */
  public boolean inTransaction() {
    return switch (this) {
      case MAIL, RCPT, PREDATA, MIME, DATA -> true;
      default -> false;
    };
  }

  /** The stage for a wire name; {@link IllegalArgumentException} for an unknown one. */
  public static AclStage fromWire(String name) {
    return valueOf(name.toUpperCase(Locale.ROOT));
  }
}
