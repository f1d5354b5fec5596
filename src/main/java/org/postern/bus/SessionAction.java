package org.postern.bus;

import java.util.Locale;

/** What the listener must do with a session reply besides writing it. */
public enum SessionAction {
  /** Write the reply and read the next command. */
  CONTINUE,
  /** Write the reply, then close the connection. */
  CLOSE,
  /** Write the reply (354), then receive the message content into the spool. */
  DATA,
  /**
   * BDAT (RFC 3030): read the chunk that follows the command (into the spool, or dropped when the
   * command was refused), then write the reply; after the last chunk the reply comes from
   * {@code postern.session.data} instead.
   */
  CHUNK,
  /** Write the reply (220) with the TLS upgrade, then report the handshake on {@code postern.session.tls}. */
  STARTTLS,
  /** End of DATA accepted: commit the spooled message with the given envelope, then write the reply. */
  COMMIT,
  /** End of DATA refused: remove the spooled content, then write the reply. */
  ABORT,
  /** End of DATA discarded by an ACL: remove the content, write the (positive) reply, log the discard. */
  DISCARD;

  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The action for a wire name; {@link IllegalArgumentException} for an unknown one. */
  public static SessionAction fromWire(String name) {
    return valueOf(name.toUpperCase(Locale.ROOT));
  }
}
