package org.postern.delivery.smtp;

import org.postern.bus.DeliveryStatus;

import java.util.List;

/**
 * The outcome of sending one message: one result per recipient plus the connection facts the
 * delivery log needs.
 *
 * @param recipients    per-recipient results, in envelope order
 * @param hostProblem   a connection-level problem (timeout, closed connection, garbage), which makes the
 *                      connection unusable and defers the host; null when the server answered properly
 * @param tls           TLS facts, or null when the message went in clear
 * @param authenticator {@code A=}: the client authenticator used, or null
 * @param chunking      the content went with BDAT (RFC 3030), Exim's {@code K}
 * @param belowPolicy   the connection is below the transport's TLS policy (in clear although
 *                      {@code hosts_require_tls} lists the host, or with a certificate that did not
 *                      verify although {@code tls_verify_hosts} does): allowed only for a message with
 *                      {@code TLS-Required: No}, and logged as {@code TLS-Required=No}
 */
public record MessageResult(List<RecipientResult> recipients, String hostProblem, TlsSummary tls,
                            String authenticator, boolean chunking, boolean belowPolicy) {
  public MessageResult {
    recipients = List.copyOf(recipients);
  }

  /** A result on a connection that meets the transport's TLS policy. */
  public MessageResult(List<RecipientResult> recipients, String hostProblem, TlsSummary tls,
                       String authenticator, boolean chunking) {
    this(recipients, hostProblem, tls, authenticator, chunking, false);
  }

  /** The recipients with this status. */
  public List<RecipientResult> with(DeliveryStatus status) {
    return recipients.stream().filter(r -> r.status() == status).toList();
  }
}
