package org.postern.delivery.smtp;

import org.postern.bus.DeliveryDsn;

import java.nio.file.Path;
import java.util.List;

/**
 * One message to send over a connection.
 *
 * @param sender     envelope sender; "" is the null sender {@code <>}
 * @param recipients envelope recipients, in order
 * @param dataFile   the spool {@code -D} file: the whole message, CRLF line ends, not dot-stuffed
 * @param size       message size in bytes (for {@code SIZE=})
 * @param eightBit   the body is 8-bit ({@code BODY=8BITMIME} when the server offers it)
 * @param dsn        the RFC 3461 parameters, passed on when the server offers DSN
 * @param smtpUtf8   received with SMTPUTF8: {@code SMTPUTF8} on MAIL when the server offers it
 * @param requireTls received with REQUIRETLS (RFC 8689): only over verified TLS to a server offering it
 * @param tlsPolicyWaived the message carries {@code TLS-Required: No} (RFC 8689 5), the message has no
 *                   REQUIRETLS and the transport honours the field: its TLS policy must not stop this
 *                   message (STARTTLS is still tried)
 */
public record OutboundMessage(String sender, List<String> recipients, Path dataFile, long size, boolean eightBit,
                              DeliveryDsn dsn, boolean smtpUtf8, boolean requireTls, boolean tlsPolicyWaived) {
  public OutboundMessage {
    recipients = List.copyOf(recipients);
    dsn = dsn == null ? DeliveryDsn.NONE : dsn;
    if (recipients.isEmpty()) {
      throw new IllegalArgumentException("no recipients");
    }
    if (requireTls && tlsPolicyWaived) {
      throw new IllegalArgumentException("REQUIRETLS and TLS-Required: No are exclusive (RFC 8689 4.1)");
    }
  }

  /** A message whose TLS policy is the transport's. */
  public OutboundMessage(String sender, List<String> recipients, Path dataFile, long size, boolean eightBit,
                         DeliveryDsn dsn, boolean smtpUtf8, boolean requireTls) {
    this(sender, recipients, dataFile, size, eightBit, dsn, smtpUtf8, requireTls, false);
  }

  /** A message without DSN parameters. */
  public OutboundMessage(String sender, List<String> recipients, Path dataFile, long size, boolean eightBit) {
    this(sender, recipients, dataFile, size, eightBit, DeliveryDsn.NONE);
  }

  /** A message without SMTPUTF8 or REQUIRETLS. */
  public OutboundMessage(String sender, List<String> recipients, Path dataFile, long size, boolean eightBit,
                         DeliveryDsn dsn) {
    this(sender, recipients, dataFile, size, eightBit, dsn, false, false);
  }

  /** The same message for fewer recipients (those still open after a host). */
  public OutboundMessage forRecipients(List<String> open) {
    return new OutboundMessage(sender, open, dataFile, size, eightBit, dsn, smtpUtf8, requireTls, tlsPolicyWaived);
  }
}
