package org.postern.tls;

import io.netty.handler.ssl.SslHandler;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetSocket;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.security.auth.x500.X500Principal;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;

/**
 * What a finished handshake tells the session and the ACLs, under Exim's variable names:
 * {@code tls_cipher} ({@code TLS1.3:TLS_AES_256_GCM_SHA384:256}), {@code tls_peerdn},
 * {@code tls_certificate_verified}, {@code tls_sni}.
 */
public final class TlsFacts {
  private TlsFacts() {
  }

  public static JsonObject of(NetSocket socket) {
    SSLSession session = socket.sslSession();
    JsonObject facts = new JsonObject();
    if (session == null) {
      return facts;
    }
    String protocol = session.getProtocol();
    String suite = session.getCipherSuite();
    facts.put("tls_protocol", protocol).put("tls_cipher_suite", suite).put("tls_bits", bits(suite))
        .put("tls_cipher", protocol.replace("TLSv", "TLS") + ":" + suite + ":" + bits(suite));
    String dn = askedForCertificate(socket) ? peerDn(session) : null;
    Object verdict = session.getValue(ClientCertificateTrustManager.VERDICT);
    if (dn != null) {
      facts.put("tls_peerdn", dn);
    }
    facts.put("tls_certificate_verified", dn != null && "ok".equals(verdict) ? 1 : 0);
    if (verdict != null && !"ok".equals(verdict)) {
      facts.put("tls_certificate_error", verdict.toString());
    }
    String sni = socket.indicatedServerName();
    if (sni != null) {
      facts.put("tls_sni", sni);
    }
    return facts;
  }

  /**
   * Whether the server asked this client for a certificate (RFC 8446 section 4.3.2, CertificateRequest):
   * a client that was not asked cannot have sent one. Most sessions are not asked, and the session's
   * answer for them is an {@link SSLPeerUnverifiedException} with its stack trace, about 1 % of a
   * STARTTLS session's server CPU (src/bench/README.md), so it is not asked for then.
   */
  static boolean askedForCertificate(NetSocket socket) {
    if (!(socket instanceof NetSocketInternal internal)) {
      return true;
    }
    SslHandler handler = internal.channelHandlerContext().pipeline().get(SslHandler.class);
    if (handler == null) {
      return true;
    }
    SSLEngine engine = handler.engine();
    return engine.getNeedClientAuth() || engine.getWantClientAuth();
  }

  private static String peerDn(SSLSession session) {
    try {
      Certificate[] peer = session.getPeerCertificates();
      if (peer.length > 0 && peer[0] instanceof X509Certificate x509) {
        return x509.getSubjectX500Principal().getName(X500Principal.RFC2253);
      }
    } catch (SSLPeerUnverifiedException e) {
      // Asked, but no client certificate: nothing to record.
    }
    return null;
  }

  /** Key length of the suite's bulk cipher, as Exim shows it. */
  public static int bits(String suite) {
    if (suite.contains("AES_256") || suite.contains("CHACHA20")) {
      return 256;
    }
    if (suite.contains("AES_128")) {
      return 128;
    }
    return suite.contains("3DES") ? 168 : 0;
  }
}
