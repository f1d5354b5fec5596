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
 */
public record OutboundMessage(String sender, List<String> recipients, Path dataFile, long size, boolean eightBit,
                              DeliveryDsn dsn) {
  public OutboundMessage {
    recipients = List.copyOf(recipients);
    dsn = dsn == null ? DeliveryDsn.NONE : dsn;
    if (recipients.isEmpty()) {
      throw new IllegalArgumentException("no recipients");
    }
  }

  /** A message without DSN parameters. */
  public OutboundMessage(String sender, List<String> recipients, Path dataFile, long size, boolean eightBit) {
    this(sender, recipients, dataFile, size, eightBit, DeliveryDsn.NONE);
  }
}
