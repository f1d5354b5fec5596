package org.postern.delivery.smtp;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;
import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;

/**
 * Checks the remote server's certificate chain against {@code tls_verify_certificates} and records
 * the verdict in the handshake session ({@link #VERDICT}) instead of failing the handshake. Which
 * hosts must verify ({@code tls_verify_hosts}) and which only log the result
 * ({@code tls_try_verify_hosts}) is decided by the connection after the handshake, before any
 * command is sent, so one SSL context serves every host.
 */
final class ServerCertificateTrustManager extends X509ExtendedTrustManager {
  /** Session value: "ok", or why the chain did not verify. */
  static final String VERDICT = "postern.server-certificate";
  static final String NO_AUTHORITIES = "no tls_verify_certificates configured";

  private final X509TrustManager authorities;

  /** @param authorities the CA bundle's trust manager, or null when nothing is to be verified */
  ServerCertificateTrustManager(X509TrustManager authorities) {
    this.authorities = authorities;
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
    record(chain, authType, engine == null ? null : engine.getHandshakeSession());
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {
    record(chain, authType, null);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType) {
    record(chain, authType, null);
  }

  private void record(X509Certificate[] chain, String authType, SSLSession session) {
    String verdict;
    if (authorities == null) {
      verdict = NO_AUTHORITIES;
    } else {
      try {
        authorities.checkServerTrusted(chain, authType);
        verdict = "ok";
      } catch (CertificateException | RuntimeException e) {
        verdict = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
      }
    }
    if (session != null) {
      session.putValue(VERDICT, verdict);
    }
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    throw new CertificateException("client-side trust manager");
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    throw new CertificateException("client-side trust manager");
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    throw new CertificateException("client-side trust manager");
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return authorities == null ? new X509Certificate[0] : authorities.getAcceptedIssuers();
  }
}
