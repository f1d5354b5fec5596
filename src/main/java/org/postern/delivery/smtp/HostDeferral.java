package org.postern.delivery.smtp;

/**
 * A problem with the remote host rather than with a recipient: every recipient is deferred and
 * the host may be retried later. The message is Exim's wording ("Connection refused", "SMTP
 * timeout after MAIL FROM:&lt;a@b&gt;", ...), and never contains credentials.
 */
public final class HostDeferral extends Exception {
  private final boolean tlsFailure;

  public HostDeferral(String reason) {
    this(reason, false);
  }

  /**
   * @param tlsFailure the TLS negotiation itself failed (handshake or certificate check): the delivery may be
   *                   retried in clear on a new connection unless TLS is required
   */
  public HostDeferral(String reason, boolean tlsFailure) {
    super(reason, null, false, false);
    this.tlsFailure = tlsFailure;
  }

  public boolean tlsFailure() {
    return tlsFailure;
  }
}
