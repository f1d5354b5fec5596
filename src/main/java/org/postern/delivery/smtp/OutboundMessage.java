package org.postern.delivery.smtp;

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
 */
public record OutboundMessage(String sender, List<String> recipients, Path dataFile, long size, boolean eightBit) {
  public OutboundMessage {
    recipients = List.copyOf(recipients);
    if (recipients.isEmpty()) {
      throw new IllegalArgumentException("no recipients");
    }
  }
}
