package org.postern.tls;

import com.sun.jna.Pointer;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;
import io.netty.handler.ssl.OpenSslPrivateKeyMethod;
import io.netty.handler.ssl.OpenSslX509KeyManagerFactory;

import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.X509KeyManager;
import java.lang.ref.Cleaner;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;

/**
 * BoringSSL's private-key operations done by the system's OpenSSL 3 ({@link SystemLibCrypto}): the
 * handshake signature (RSA-PSS, RSA PKCS#1, ECDSA, Ed25519) and, for the TLS 1.2 RSA key exchange an
 * admin may enable with {@code tls_require_ciphers}, the raw RSA decryption (BoringSSL checks the
 * padding itself). One certificate and its key: the context gets the chain alone
 * ({@link #keyless()}), and BoringSSL asks this object for every operation with the key. libcrypto's
 * copy of the key is freed once this object is unreachable, i.e. with the context that used it.
 */
final class SystemOpenSslKeys implements OpenSslPrivateKeyMethod {
  private static final String[] KEY_TYPES = {"RSA", "EC", "EdDSA", "Ed25519"};
  private static final Cleaner CLEANER = Cleaner.create();
  /** Signatures and decryptions done, for the tests that show this path is the one taken. */
  private static final LongAdder OPERATIONS = new LongAdder();
  /**
   * How each signature algorithm BoringSSL may ask for is made with libcrypto: its digest (none for
   * Ed25519) and, for RSA, its padding (0 for the others).
   */
  private static final Map<Integer, Scheme> SCHEMES = Map.ofEntries(
      Map.entry(SSL_SIGN_RSA_PSS_RSAE_SHA256, new Scheme("SHA256", SystemLibCrypto.PSS_PADDING)),
      Map.entry(SSL_SIGN_RSA_PSS_RSAE_SHA384, new Scheme("SHA384", SystemLibCrypto.PSS_PADDING)),
      Map.entry(SSL_SIGN_RSA_PSS_RSAE_SHA512, new Scheme("SHA512", SystemLibCrypto.PSS_PADDING)),
      Map.entry(SSL_SIGN_RSA_PKCS1_SHA1, new Scheme("SHA1", SystemLibCrypto.PKCS1_PADDING)),
      Map.entry(SSL_SIGN_RSA_PKCS1_SHA256, new Scheme("SHA256", SystemLibCrypto.PKCS1_PADDING)),
      Map.entry(SSL_SIGN_RSA_PKCS1_SHA384, new Scheme("SHA384", SystemLibCrypto.PKCS1_PADDING)),
      Map.entry(SSL_SIGN_RSA_PKCS1_SHA512, new Scheme("SHA512", SystemLibCrypto.PKCS1_PADDING)),
      Map.entry(SSL_SIGN_RSA_PKCS1_MD5_SHA1, new Scheme("MD5-SHA1", SystemLibCrypto.PKCS1_PADDING)),
      Map.entry(SSL_SIGN_ECDSA_SHA1, new Scheme("SHA1", 0)),
      Map.entry(SSL_SIGN_ECDSA_SECP256R1_SHA256, new Scheme("SHA256", 0)),
      Map.entry(SSL_SIGN_ECDSA_SECP384R1_SHA384, new Scheme("SHA384", 0)),
      Map.entry(SSL_SIGN_ECDSA_SECP521R1_SHA512, new Scheme("SHA512", 0)),
      Map.entry(SSL_SIGN_ED25519, new Scheme(null, 0)));
  private final SystemLibCrypto lib;
  private final X509Certificate[] chain;
  private final Pointer key;
  /** The key's signature (and RSA block) size in bytes. */
  private final int size;

  private SystemOpenSslKeys(SystemLibCrypto lib, X509Certificate[] chain, Pointer key) {
    this.lib = lib;
    this.chain = chain;
    this.key = key;
    this.size = lib.functions().EVP_PKEY_get_size(key);
  }

  private record Scheme(String digest, int padding) {
  }

  /**
   * The key method for a server's one certificate, or null when its key manager holds none or
   * several (BoringSSL then keeps the keys), or libcrypto cannot read the key.
   */
  static SystemOpenSslKeys of(SystemLibCrypto lib, KeyManagerFactory factory) {
    X509KeyManager keys = null;
    for (KeyManager m : factory.getKeyManagers()) {
      if (m instanceof X509KeyManager x) {
        keys = x;
        break;
      }
    }
    if (keys == null) {
      return null;
    }
    Set<String> aliases = new LinkedHashSet<>();
    for (String type : KEY_TYPES) {
      String[] named = keys.getServerAliases(type, null);
      if (named != null) {
        aliases.addAll(Arrays.asList(named));
      }
    }
    if (aliases.size() != 1) {
      return null;
    }
    String alias = aliases.iterator().next();
    X509Certificate[] chain = keys.getCertificateChain(alias);
    PrivateKey privateKey = keys.getPrivateKey(alias);
    if (chain == null || chain.length == 0 || privateKey == null || privateKey.getEncoded() == null) {
      return null;
    }
    Pointer key;
    try {
      key = lib.privateKey(privateKey.getEncoded());
    } catch (IllegalArgumentException e) {
      return null;
    }
    SystemOpenSslKeys method = new SystemOpenSslKeys(lib, chain, key);
    // BoringSSL's context holds the method until the context is freed; then libcrypto's key goes too.
    SystemLibCrypto.Functions f = lib.functions();
    CLEANER.register(method, () -> f.EVP_PKEY_free(key));
    return method;
  }

  /** The certificate chain without its key, for the context that leaves the key to this object. */
  KeyManagerFactory keyless() throws SSLException {
    try {
      return OpenSslX509KeyManagerFactory.newKeyless(chain);
    } catch (java.security.GeneralSecurityException | java.io.IOException e) {
      throw new SSLException("cannot make a keyless key manager for " + chain[0].getSubjectX500Principal(), e);
    }
  }

  /** Private-key operations done through libcrypto in this JVM. */
  static long operations() {
    return OPERATIONS.sum();
  }

  @Override
  public byte[] sign(SSLEngine engine, int algorithm, byte[] input) throws Exception {
    OPERATIONS.increment();
    Scheme scheme = SCHEMES.get(algorithm);
    if (scheme == null) {
      throw new IllegalStateException("unknown signature algorithm 0x" + Integer.toHexString(algorithm));
    }
    SystemLibCrypto.Functions f = lib.functions();
    Pointer context = f.EVP_MD_CTX_new();
    try {
      PointerByReference keyContext = new PointerByReference();
      check(f.EVP_DigestSignInit(context, keyContext, lib.digest(scheme.digest()), null, key), "EVP_DigestSignInit");
      if (scheme.padding() != 0) {
        check(f.EVP_PKEY_CTX_set_rsa_padding(keyContext.getValue(), scheme.padding()), "RSA padding");
      }
      if (scheme.padding() == SystemLibCrypto.PSS_PADDING) {
        check(f.EVP_PKEY_CTX_set_rsa_pss_saltlen(keyContext.getValue(), SystemLibCrypto.SALT_LENGTH_OF_DIGEST),
            "PSS salt length");
      }
      byte[] signature = new byte[size];
      LongByReference length = new LongByReference(size);
      check(f.EVP_DigestSign(context, signature, length, input, input.length), "EVP_DigestSign");
      return upTo(signature, length);
    } finally {
      f.EVP_MD_CTX_free(context);
    }
  }

  @Override
  public byte[] decrypt(SSLEngine engine, byte[] input) throws Exception {
    OPERATIONS.increment();
    SystemLibCrypto.Functions f = lib.functions();
    Pointer context = f.EVP_PKEY_CTX_new(key, null);
    try {
      check(f.EVP_PKEY_decrypt_init(context), "EVP_PKEY_decrypt_init");
      check(f.EVP_PKEY_CTX_set_rsa_padding(context, SystemLibCrypto.NO_PADDING), "no padding");
      byte[] out = new byte[size];
      LongByReference length = new LongByReference(size);
      check(f.EVP_PKEY_decrypt(context, out, length, input, input.length), "EVP_PKEY_decrypt");
      return upTo(out, length);
    } finally {
      f.EVP_PKEY_CTX_free(context);
    }
  }

  /** The first {@code length} bytes of {@code out}, which libcrypto filled that far. */
  private static byte[] upTo(byte[] out, LongByReference length) {
    return length.getValue() == out.length ? out : Arrays.copyOf(out, (int) length.getValue());
  }

  private void check(int result, String what) {
    if (result <= 0) {
      throw new IllegalStateException(what + " failed: " + lib.error());
    }
  }
}
