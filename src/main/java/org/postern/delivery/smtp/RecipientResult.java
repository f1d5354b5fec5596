package org.postern.delivery.smtp;

import org.postern.bus.DeliveryStatus;

/**
 * What happened to one recipient.
 *
 * @param address  the recipient
 * @param status   outcome
 * @param code     the remote reply code, or 0 when the problem was not a reply (timeout, closed connection)
 * @param enhanced the remote enhanced status code, or null
 * @param text     Exim-style explanation for the log and the bounce, never containing credentials
 * @param dsnPassedOn delivered to a server that offered DSN, with the RFC 3461 parameters passed on
 */
public record RecipientResult(String address, DeliveryStatus status, int code, String enhanced, String text,
                              boolean dsnPassedOn) {
  /** A result with no DSN passed on. */
  public RecipientResult(String address, DeliveryStatus status, int code, String enhanced, String text) {
    this(address, status, code, enhanced, text, false);
  }
}
