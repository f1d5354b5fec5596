package org.postern.delivery.smtp;

/**
 * The TLS facts of an outbound connection, for the {@code =>} log line.
 *
 * @param cipher   {@code X=}: {@code TLS1.3:TLS_AES_256_GCM_SHA384:256}, as Postern logs server side
 * @param verified {@code CV=yes}: the server certificate verified against {@code tls_verify_certificates}
 *                 (and its name matched, where {@code tls_verify_cert_hostnames} asks for it)
 * @param peerDn   {@code DN=}: subject of the server certificate (RFC 2253), or null
 * @param verdict  why verification failed ("ok" when it did not), for diagnostics
 * @param nameMatched the chain verified and the certificate names the host, whatever
 *                 {@code tls_verify_cert_hostnames} says: what REQUIRETLS (RFC 8689 4.2.1) asks for
 */
public record TlsSummary(String cipher, boolean verified, String peerDn, String verdict, boolean nameMatched) {
  /** {@code X=... CV=yes DN="..."}. */
  public String logText() {
    return "X=" + cipher + " CV=" + (verified ? "yes" : "no") + (peerDn == null ? "" : " DN=\"" + peerDn + "\"");
  }
}
