package org.postern.tls;

import io.netty.handler.ssl.OpenSslCachingX509KeyManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.testing.TestPki;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.X509KeyManager;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The key manager the listeners' TLS contexts are built on: on BoringSSL netty's caching factory
 * (without it every handshake converted and parsed the key and chain again: ~0.3 ms of server CPU
 * per full handshake, src/bench/README.md), on JSSE the JDK's own; both serve the loaded pair.
 * Real handshakes over it, on both engines, are the other tests in this package.
 */
class TlsKeyMaterialTest {
  @TempDir
  Path dir;

  @Test
  void openSslGetsTheCachingFactoryOverTheLoadedPair() throws Exception {
    assumeTrue(TlsEngine.openSslAvailable(), "BoringSSL does not load here");
    TlsCredentials credentials = load();
    KeyManagerFactory factory = credentials.keyManagerFactory(TlsEngine.OPENSSL);
    assertInstanceOf(OpenSslCachingX509KeyManagerFactory.class, factory);
    assertServes(credentials, factory);
  }

  @Test
  void jdkGetsAPlainFactoryOverTheLoadedPair() throws Exception {
    TlsCredentials credentials = load();
    KeyManagerFactory factory = credentials.keyManagerFactory(TlsEngine.JDK);
    assertFalse(factory instanceof OpenSslCachingX509KeyManagerFactory);
    assertServes(credentials, factory);
  }

  private TlsCredentials load() throws Exception {
    TestPki pki = TestPki.shared();
    TestPki.ServerFiles files = pki.writeServer(dir, "server", pki.server());
    return TlsCredentials.load(files.certificate(), files.key(), dir, TestPki.SERVER_NAME, Instant.now());
  }

  private static void assertServes(TlsCredentials credentials, KeyManagerFactory factory) {
    X509KeyManager keys = (X509KeyManager) factory.getKeyManagers()[0];
    String alias = keys.chooseServerAlias("RSA", null, null);
    assertEquals("server", alias);
    assertArrayEquals(credentials.chain().toArray(new X509Certificate[0]), keys.getCertificateChain(alias));
    assertEquals(credentials.chain().get(0).getPublicKey().getAlgorithm(), keys.getPrivateKey(alias).getAlgorithm());
  }
}
