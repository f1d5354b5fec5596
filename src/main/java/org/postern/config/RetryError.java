package org.postern.config;

import java.util.Locale;

/**
 * The kinds of temporary failure a retry rule can single out, with Exim's names for the error field
 * of a rule ({@code timeout}, {@code refused}, {@code rcpt_4xx}, ...). A failure reported by a
 * transport is one of these plus, for the {@code *_4xx} kinds, the SMTP code that was received.
 */
public enum RetryError {
  /** A connection or an SMTP command timed out. */
  TIMEOUT("timeout"),
  /** The remote host refused the connection. */
  REFUSED("refused"),
  /** The connection was lost in the middle of a transaction. */
  LOST_CONNECTION("lost_connection"),
  /** A 4xx reply to MAIL FROM. */
  MAIL_4XX("mail_4xx"),
  /** A 4xx reply to RCPT TO. */
  RCPT_4XX("rcpt_4xx"),
  /** A 4xx reply to DATA or to the end of the data. */
  DATA_4XX("data_4xx"),
  /** Authentication to the remote host failed. */
  AUTH_FAILED("auth_failed"),
  /** TLS was required for the host but could not be set up. */
  TLS_REQUIRED("tls_required"),
  /** A local mailbox is over quota. */
  QUOTA("quota"),
  /** Anything else; only {@code *} rules match it. */
  OTHER("other");

  private final String eximName;

  RetryError(String eximName) {
    this.eximName = eximName;
  }

  /** Exim's spelling in a retry rule. */
  public String eximName() {
    return eximName;
  }

  /** True for the kinds whose rules may name the reply code ({@code rcpt_45x}, {@code rcpt_452}). */
  public boolean carriesReplyCode() {
    return this == MAIL_4XX || this == RCPT_4XX || this == DATA_4XX;
  }

  static RetryError byEximName(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    for (RetryError e : values()) {
      if (e != OTHER && e.eximName.equals(n)) {
        return e;
      }
    }
    return null;
  }
}
