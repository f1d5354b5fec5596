package org.postern.tls;

import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.OpenSslContextOption;
import io.netty.handler.ssl.OpenSslServerSessionContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.spi.tls.DefaultSslContextFactory;
import io.vertx.core.spi.tls.SslContextFactory;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;
import java.util.List;
import java.util.Set;

/**
 * Vert.x's OpenSSL (BoringSSL) engine, with the server's private-key operations done by the
 * system's OpenSSL 3 ({@link SystemOpenSslKeys}) when it is there. Vert.x builds its contexts in a
 * private method, so a server context is built here as Vert.x's {@code DefaultSslContextFactory}
 * builds it (key manager, trust manager, ciphers, ALPN, client authentication, session cache), with
 * the key method added; client contexts are Vert.x's own.
 */
final class SystemKeyEngineOptions extends OpenSSLEngineOptions {
  private final SystemLibCrypto lib;

  SystemKeyEngineOptions(SystemLibCrypto lib) {
    this.lib = lib;
  }

  private SystemKeyEngineOptions(SystemKeyEngineOptions other) {
    super(other);
    this.lib = other.lib;
  }

  @Override
  public OpenSSLEngineOptions copy() {
    return new SystemKeyEngineOptions(this);
  }

  @Override
  public SslContextFactory sslContextFactory() {
    return new Factory(lib, isSessionCacheEnabled());
  }

  private static final class Factory implements SslContextFactory {
    private final SystemLibCrypto lib;
    private final boolean sessionCache;
    private boolean alpn;
    private ClientAuth clientAuth;
    private boolean forClient;
    private KeyManagerFactory keys;
    private TrustManagerFactory trust;
    private Set<String> ciphers;
    private List<String> protocols;

    Factory(SystemLibCrypto lib, boolean sessionCache) {
      this.lib = lib;
      this.sessionCache = sessionCache;
    }

    @Override
    public SslContextFactory useAlpn(boolean useAlpn) {
      alpn = useAlpn;
      return this;
    }

    @Override
    public SslContextFactory clientAuth(ClientAuth auth) {
      clientAuth = auth;
      return this;
    }

    @Override
    public SslContextFactory forClient(boolean client) {
      forClient = client;
      return this;
    }

    @Override
    public SslContextFactory keyMananagerFactory(KeyManagerFactory factory) {
      keys = factory;
      return this;
    }

    @Override
    public SslContextFactory trustManagerFactory(TrustManagerFactory factory) {
      trust = factory;
      return this;
    }

    @Override
    public SslContextFactory enabledCipherSuites(Set<String> suites) {
      ciphers = suites;
      return this;
    }

    @Override
    public SslContextFactory applicationProtocols(List<String> names) {
      protocols = names;
      return this;
    }

    @Override
    public SslContext create() throws SSLException {
      SystemOpenSslKeys method = forClient || keys == null ? null : SystemOpenSslKeys.of(lib, keys);
      if (method == null) {
        return new DefaultSslContextFactory(SslProvider.OPENSSL, sessionCache).useAlpn(alpn).clientAuth(clientAuth)
            .forClient(forClient).keyMananagerFactory(keys).trustManagerFactory(trust).enabledCipherSuites(ciphers)
            .applicationProtocols(protocols).create();
      }
      SslContextBuilder builder = SslContextBuilder.forServer(method.keyless()).sslProvider(SslProvider.OPENSSL)
          .option(OpenSslContextOption.PRIVATE_KEY_METHOD, method);
      if (trust != null) {
        builder.trustManager(trust);
      }
      builder.ciphers(ciphers == null || ciphers.isEmpty() ? OpenSsl.availableOpenSslCipherSuites() : ciphers);
      if (alpn && protocols != null && !protocols.isEmpty()) {
        builder.applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, protocols));
      }
      if (clientAuth != null) {
        builder.clientAuth(clientAuth);
      }
      SslContext context = builder.build();
      if (context.sessionContext() instanceof OpenSslServerSessionContext sessions) {
        sessions.setSessionCacheEnabled(sessionCache);
      }
      return context;
    }
  }
}
