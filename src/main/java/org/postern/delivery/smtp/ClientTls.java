package org.postern.delivery.smtp;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.ClientSSLOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.TrustOptions;
import org.postern.bus.RemoteHost;
import org.postern.config.SmtpTransportOptions;
import org.postern.tls.TlsCredentials;
import org.postern.tls.TlsFacts;

import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import javax.security.auth.x500.X500Principal;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.concurrent.TimeUnit;

/**
 * The client TLS set-up of one transport: the {@link ClientSSLOptions} used for STARTTLS (CA
 * bundle, client certificate, ciphers) and the post-handshake decision on the server certificate.
 * Build it once per configuration generation with {@link #load}: it reads files, so it runs on a
 * worker; each instance has its own trust-manager object, so Vert.x's SSL-context cache never
 * hands one generation's context to another.
 */
public final class ClientTls {
  private final ClientSSLOptions sslOptions;
  private final boolean authorities;

  private ClientTls(ClientSSLOptions sslOptions, boolean authorities) {
    this.sslOptions = sslOptions;
    this.authorities = authorities;
  }

  /** Reads the CA bundle and client certificate of these options, off the event loop. */
  public static Future<ClientTls> load(Vertx vertx, SmtpTransportOptions options) {
    return vertx.executeBlocking(() -> build(options), false);
  }

  /** Blocking: reads files. */
  public static ClientTls build(SmtpTransportOptions options) throws IOException, GeneralSecurityException {
    X509TrustManager cas = authorities(options.tlsVerifyCertificates());
    ClientSSLOptions o = new ClientSSLOptions()
        // Names are checked by Postern after the handshake, per tls_verify_cert_hostnames.
        .setHostnameVerificationAlgorithm("")
        .setTrustOptions(TrustOptions.wrap(new ServerCertificateTrustManager(cas)))
        .setSslHandshakeTimeout(options.commandTimeout().toMillis())
        .setSslHandshakeTimeoutUnit(TimeUnit.MILLISECONDS);
    options.tlsRequireCiphers().forEach(o::addEnabledCipherSuite);
    if (options.tlsCertificate() != null) {
      TlsCredentials client = TlsCredentials.load(options.tlsCertificate(), options.tlsPrivateKey(), null, null,
          java.time.Instant.now());
      o.setKeyCertOptions(new PemKeyCertOptions().setCertValue(Buffer.buffer(client.certificatePem()))
          .setKeyValue(Buffer.buffer(client.keyPem())));
    }
    return new ClientTls(o, cas != null);
  }

  ClientSSLOptions sslOptions() {
    return sslOptions;
  }

  /**
   * What the finished handshake says about the server, under this transport's rules.
   *
   * @return the facts; {@link TlsSummary#verified()} is false when the chain or (where required) the name failed
   */
  TlsSummary summarize(NetSocket socket, RemoteHost host, SmtpTransportOptions options) {
    SSLSession session = socket.sslSession();
    String suite = session.getCipherSuite();
    String cipher = session.getProtocol().replace("TLSv", "TLS") + ":" + suite + ":" + TlsFacts.bits(suite);
    X509Certificate leaf = null;
    try {
      Certificate[] peer = session.getPeerCertificates();
      if (peer.length > 0 && peer[0] instanceof X509Certificate x) {
        leaf = x;
      }
    } catch (SSLPeerUnverifiedException e) {
      // Anonymous suites send none; nothing verifies then.
    }
    Object chain = session.getValue(ServerCertificateTrustManager.VERDICT);
    String verdict = !authorities ? ServerCertificateTrustManager.NO_AUTHORITIES
        : leaf == null ? "no server certificate" : chain == null ? "certificate not checked" : chain.toString();
    String name = host.nameOrAddress();
    boolean nameMatched = "ok".equals(verdict) && CertificateNames.matches(leaf, name);
    if ("ok".equals(verdict) && !nameMatched
        && options.tlsVerifyCertHostnames().matches(host.address(), host.name())) {
      verdict = "certificate name mismatch: \"" + name + "\"";
    }
    String dn = leaf == null ? null : leaf.getSubjectX500Principal().getName(X500Principal.RFC2253);
    return new TlsSummary(cipher, "ok".equals(verdict), dn, verdict, nameMatched);
  }

  private static X509TrustManager authorities(String spec) throws IOException, GeneralSecurityException {
    if (spec == null) {
      return null;
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    if (spec.equals(SmtpTransportOptions.SYSTEM_CA)) {
      tmf.init((KeyStore) null);
    } else {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      int i = 0;
      try (InputStream in = Files.newInputStream(Path.of(spec))) {
        for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
          store.setCertificateEntry("ca" + i++, c);
        }
      }
      if (i == 0) {
        throw new GeneralSecurityException(spec + ": no certificate found");
      }
      tmf.init(store);
    }
    for (TrustManager tm : tmf.getTrustManagers()) {
      if (tm instanceof X509TrustManager x) {
        return x;
      }
    }
    throw new GeneralSecurityException("no X.509 trust manager");
  }
}
