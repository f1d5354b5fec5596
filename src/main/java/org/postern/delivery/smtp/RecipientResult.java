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
 */
public record RecipientResult(String address, DeliveryStatus status, int code, String enhanced, String text) {
}
