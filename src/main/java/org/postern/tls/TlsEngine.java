package org.postern.tls;

import io.netty.handler.ssl.OpenSsl;
import io.vertx.core.net.JdkSSLEngineOptions;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.net.SSLEngineOptions;

import javax.net.ssl.SSLContext;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Which TLS implementation the listeners and the smtp transport use ({@code tls_engine}):
 * BoringSSL through netty-tcnative ({@link #OPENSSL}), the JDK's JSSE ({@link #JDK}), or
 * {@link #AUTO}, BoringSSL when its native library loads on this machine and JSSE otherwise.
 * A full handshake costs the server several times less CPU on BoringSSL (RSA and ECDHE in
 * assembly), which is what decides STARTTLS sessions per second; on BoringSSL the listeners' private
 * keys are used through the machine's OpenSSL 3 where it is installed ({@link SystemKeyEngineOptions}),
 * whose RSA is faster still on CPUs with AVX-512 IFMA.
 */
public enum TlsEngine {
  AUTO, OPENSSL, JDK;

  /** The engine named by a {@code tls_engine} value; IllegalArgumentException when it is none of them. */
  public static TlsEngine parse(String value) {
    try {
      return valueOf(value.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("unknown TLS engine \"" + value + "\" (use auto, openssl or jdk)");
    }
  }

  /** True when netty-tcnative's BoringSSL loaded in this JVM. */
  public static boolean openSslAvailable() {
    return OpenSsl.isAvailable();
  }

  /** Why BoringSSL cannot be used here, or null when it can. */
  public static String openSslUnavailableCause() {
    Throwable cause = OpenSsl.unavailabilityCause();
    return cause == null ? null : String.valueOf(cause.getMessage() == null ? cause : cause.getMessage());
  }

  /** AUTO made concrete: OPENSSL when available, JDK otherwise; OPENSSL and JDK stay as they are. */
  public TlsEngine resolve() {
    if (this != AUTO) {
      return this;
    }
    return openSslAvailable() ? OPENSSL : JDK;
  }

  /**
   * The cipher suites the resolved engine can use, as JSSE names in the JDK's order of preference
   * (which {@link CipherNames} keywords keep): BoringSSL has no DHE suites, and naming one it lacks
   * makes it refuse the whole list at the first handshake.
   */
  public List<String> supportedCipherSuites() {
    List<String> jdk;
    try {
      jdk = List.of(SSLContext.getDefault().getSupportedSSLParameters().getCipherSuites());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("no default TLS context", e);
    }
    if (resolve() != OPENSSL) {
      return jdk;
    }
    Set<String> boring = OpenSsl.availableJavaCipherSuites();
    return jdk.stream().filter(boring::contains).toList();
  }

  /** The Vert.x engine options of the resolved engine, for NetServerOptions and NetClientOptions. */
  public SSLEngineOptions options() {
    if (resolve() != OPENSSL) {
      return new JdkSSLEngineOptions();
    }
    SystemLibCrypto lib = SystemLibCrypto.system();
    return lib == null ? new OpenSSLEngineOptions() : new SystemKeyEngineOptions(lib);
  }

  /** The engine as {@code -bV} and the start-up log line show it, e.g. "OpenSSL (BoringSSL ...)". */
  public String describe() {
    if (resolve() == OPENSSL) {
      SystemLibCrypto lib = SystemLibCrypto.system();
      return "OpenSSL (" + OpenSsl.versionString() + ", netty-tcnative; private-key operations by "
          + (lib != null ? lib.version() + ", libcrypto.so.3)" : "BoringSSL: " + SystemLibCrypto.unavailableCause() + ")");
    }
    String jdk = jsse();
    return this == AUTO ? jdk + "; OpenSSL unavailable: " + openSslUnavailableCause() : jdk;
  }

  private static String jsse() {
    try {
      SSLContext context = SSLContext.getDefault();
      return "JSSE (" + context.getProvider().getName() + " " + context.getProvider().getVersionStr() + ")";
    } catch (Exception e) {
      return "JSSE (unavailable: " + e.getMessage() + ")";
    }
  }
}
