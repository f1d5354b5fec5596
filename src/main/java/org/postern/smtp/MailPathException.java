package org.postern.smtp;

import java.util.Objects;

/**
 * Thrown by {@link MailPath#parse(String, boolean)} when the argument of {@code MAIL FROM:} or
 * {@code RCPT TO:} cannot be accepted.
 *
 * <p>The {@link #kind()} tells the session which reply to send; the {@linkplain #getMessage()
 * message} is a short human-readable reason that is safe to put in a reply or a log line: it
 * never echoes raw client input, so it cannot smuggle control characters or CR/LF into either.
 */
public final class MailPathException extends Exception {

  private static final long serialVersionUID = 1L;

  /** What went wrong, which determines the SMTP reply code. */
  public enum Kind {
    /**
     * The path itself is malformed (missing brackets, bad local part or domain, too long,
     * control characters, garbage after the path...). Sessions answer {@code 501 5.5.4} or, when
     * the problem is the mailbox rather than the command, {@code 553 5.1.3}.
     */
    SYNTAX,
    /**
     * The path is fine but an ESMTP parameter after it is malformed or repeated. Sessions
     * answer {@code 555 5.5.4} (RFC 5321 §4.1.1.11).
     */
    BAD_PARAMETER
  }

  /** Error class; part of the serialized form. */
  private final Kind kind;

  /**
   * Creates an exception.
   *
   * @param kind which class of error this is
   * @param message human-readable reason, without raw client input
   */
  public MailPathException(Kind kind, String message) {
    super(message);
    this.kind = Objects.requireNonNull(kind, "kind");
  }

  /**
   * Returns the class of error, from which the session picks the reply code.
   *
   * @return the kind, never {@code null}
   */
  public Kind kind() {
    return kind;
  }
}
