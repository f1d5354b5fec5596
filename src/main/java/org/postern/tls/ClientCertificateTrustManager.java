package org.postern.tls;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;
import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;

/**
 * Checks client certificates against {@code tls_verify_certificates} and records the verdict in
 * the handshake session ({@link #VERDICT}) instead of always failing the handshake: JSSE aborts on
 * an untrusted certificate even when a certificate is only requested, which would make
 * {@code tls_try_verify_hosts} impossible. With {@code enforce} it does fail the handshake, for
 * {@code tls_verify_hosts}.
 */
public final class ClientCertificateTrustManager extends X509ExtendedTrustManager {
  /** Session value: "ok", or the reason verification failed. */
  public static final String VERDICT = "postern.client-certificate";

  private final X509TrustManager authorities;
  private final boolean enforce;

  /**
   * @param authorities the CA bundle's trust manager, or null when no CA is configured (nothing verifies)
   */
  public ClientCertificateTrustManager(X509TrustManager authorities, boolean enforce) {
    this.authorities = authorities;
    this.enforce = enforce;
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    record(chain, authType, engine == null ? null : engine.getHandshakeSession());
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
    record(chain, authType, null);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    record(chain, authType, null);
  }

  private void record(X509Certificate[] chain, String authType, SSLSession session) throws CertificateException {
    String verdict;
    CertificateException failure = null;
    try {
      if (authorities == null) {
        throw new CertificateException("no tls_verify_certificates configured");
      }
      authorities.checkClientTrusted(chain, authType);
      verdict = "ok";
    } catch (CertificateException e) {
      failure = e;
      verdict = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
    if (session != null) {
      session.putValue(VERDICT, verdict);
    }
    if (enforce && failure != null) {
      throw failure;
    }
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    throw new CertificateException("server-side trust manager");
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    throw new CertificateException("server-side trust manager");
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    throw new CertificateException("server-side trust manager");
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return authorities == null ? new X509Certificate[0] : authorities.getAcceptedIssuers();
  }
}
