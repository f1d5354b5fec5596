package org.postern.listener;

import io.vertx.core.http.ClientAuth;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.KeyCertOptions;
import io.vertx.core.net.ServerSSLOptions;
import io.vertx.core.net.TrustOptions;
import org.postern.config.TlsSettings;
import org.postern.tls.ClientCertificateTrustManager;
import org.postern.tls.TlsCredentials;

import javax.net.ssl.X509TrustManager;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.util.LinkedHashSet;
import java.util.concurrent.TimeUnit;

/**
 * The server TLS options of one configuration generation, one per client-certificate policy.
 * Vert.x caches SSL contexts by key/cert and trust options only (not by client-auth mode, ciphers
 * or protocols), so each profile gets its own trust-manager instance, and each generation new
 * ones: a profile or a reload can never be served a stale context.
 *
 * @param none        STARTTLS from hosts in neither {@code tls_verify_hosts} nor {@code tls_try_verify_hosts}
 * @param request     STARTTLS from {@code tls_try_verify_hosts}: a certificate is asked for, its verdict recorded
 * @param require     STARTTLS from {@code tls_verify_hosts}: no verified certificate, no handshake
 * @param onConnect   implicit TLS (RFC 8314): one server-wide profile that asks for a certificate whenever
 *                    some host may need one; Postern enforces {@code tls_verify_hosts} after the handshake
 */
public record TlsProfiles(ServerSSLOptions none, ServerSSLOptions request, ServerSSLOptions require,
                          ServerSSLOptions onConnect, TlsCredentials credentials, TlsSettings settings) {

  public static TlsProfiles build(TlsCredentials credentials, TlsSettings settings, X509TrustManager authorities)
      throws IOException, GeneralSecurityException {
    // One key manager for the four profiles: Vert.x caches a context per (key, trust) options pair,
    // and the trust managers already tell the profiles apart.
    KeyCertOptions keys = KeyCertOptions.wrap(credentials.keyManagerFactory(settings.engine()));
    boolean asks = !settings.verifyHosts().spec().isEmpty() || !settings.tryVerifyHosts().spec().isEmpty();
    return new TlsProfiles(
        options(keys, settings, authorities, ClientAuth.NONE, false),
        options(keys, settings, authorities, ClientAuth.REQUEST, false),
        options(keys, settings, authorities, ClientAuth.REQUIRED, true),
        options(keys, settings, authorities, asks ? ClientAuth.REQUEST : ClientAuth.NONE, false),
        credentials, settings);
  }

  /** The profile for a STARTTLS from this client address. */
  public ServerSSLOptions forHost(String address) {
    if (settings.verifyHosts().matches(address, null)) {
      return require;
    }
    return settings.tryVerifyHosts().matches(address, null) ? request : none;
  }

  /** Applies the implicit-TLS profile to the options of a TLS-on-connect listener. */
  public NetServerOptions applyTo(NetServerOptions options) {
    ServerSSLOptions o = onConnect;
    options.setSsl(true).setKeyCertOptions(o.getKeyCertOptions()).setTrustOptions(o.getTrustOptions())
        .setClientAuth(o.getClientAuth()).setEnabledSecureTransportProtocols(o.getEnabledSecureTransportProtocols())
        .setSslHandshakeTimeout(o.getSslHandshakeTimeout()).setSslHandshakeTimeoutUnit(o.getSslHandshakeTimeoutUnit());
    o.getEnabledCipherSuites().forEach(options::addEnabledCipherSuite);
    return options;
  }

  private static ServerSSLOptions options(KeyCertOptions keys, TlsSettings settings,
                                          X509TrustManager authorities, ClientAuth auth, boolean enforce) {
    ServerSSLOptions o = new ServerSSLOptions()
        .setKeyCertOptions(keys)
        .setTrustOptions(TrustOptions.wrap(new ClientCertificateTrustManager(authorities, enforce)))
        .setClientAuth(auth)
        .setEnabledSecureTransportProtocols(new LinkedHashSet<>(settings.protocols()))
        .setSslHandshakeTimeout(settings.handshakeTimeout().toMillis())
        .setSslHandshakeTimeoutUnit(TimeUnit.MILLISECONDS);
    settings.cipherSuites().forEach(o::addEnabledCipherSuite);
    return o;
  }
}
