package org.postern.bus;

import java.util.Locale;

/**
 * The points of an SMTP session where a session filter (a milter client, Haraka's hooks) is asked,
 * each after the stage's ACL accepted and before the session replies. {@link #RESET} and
 * {@link #CLOSE} are told, never answered.
 */
public enum FilterHook {
  /** A connection was accepted by the connect ACL; the filter may refuse the greeting. */
  CONNECT,
  /** HELO or EHLO; {@code argument} is the name given. */
  HELO,
  /** MAIL; {@code argument} is {@code <sender>} and its ESMTP parameters. */
  MAIL,
  /** RCPT; {@code argument} is {@code <recipient>}. */
  RCPT,
  /** The end of DATA, the content in the spool's data file: headers, body and end of message. */
  DATA,
  /** The transaction ended without a message (RSET, a new HELO, a refused DATA). */
  RESET,
  /** The connection is gone. */
  CLOSE;

  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static FilterHook fromWire(String s) {
    return valueOf(s.toUpperCase(Locale.ROOT));
  }

  /** True for the hooks that are told and not answered. */
  public boolean notification() {
    return this == RESET || this == CLOSE;
  }
}
