package org.postern.tls;

import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The machine's OpenSSL 3 {@code libcrypto}, loaded through JNA for the one operation a server's
 * handshake spends most of its CPU on: the signature with the certificate's private key. OpenSSL
 * 3.0 signs RSA-2048 with AVX-512 IFMA where the CPU has it, 2.7 times faster than the
 * BoringSSL that netty-tcnative links statically (0.27 against 0.74 ms here, {@code openssl speed
 * rsa2048} with and without {@code OPENSSL_ia32cap} masking IFMA), and that difference was what
 * separated Postern's STARTTLS handshakes from Postfix's (issue 15). {@link #system} is null where no
 * libcrypto 3 is installed: BoringSSL then signs as before.
 */
final class SystemLibCrypto {
  /** {@code RSA_PKCS1_PADDING}, {@code RSA_NO_PADDING}, {@code RSA_PKCS1_PSS_PADDING}. */
  static final int PKCS1_PADDING = 1;
  static final int NO_PADDING = 3;
  static final int PSS_PADDING = 6;
  /** {@code RSA_PSS_SALTLEN_DIGEST}: TLS 1.3 requires the salt as long as the digest (RFC 8446 4.2.3). */
  static final int SALT_LENGTH_OF_DIGEST = -1;

  /** The libcrypto functions used (OpenSSL 3.0 names). */
  interface Functions extends Library {
    String OpenSSL_version(int type);

    Pointer d2i_AutoPrivateKey(Pointer reuse, PointerByReference der, long length);

    void EVP_PKEY_free(Pointer key);

    int EVP_PKEY_get_size(Pointer key);

    Pointer EVP_get_digestbyname(String name);

    Pointer EVP_MD_CTX_new();

    void EVP_MD_CTX_free(Pointer context);

    int EVP_DigestSignInit(Pointer context, PointerByReference keyContext, Pointer digest, Pointer engine, Pointer key);

    int EVP_PKEY_CTX_set_rsa_padding(Pointer keyContext, int padding);

    int EVP_PKEY_CTX_set_rsa_pss_saltlen(Pointer keyContext, int length);

    int EVP_DigestSign(Pointer context, byte[] signature, LongByReference signatureLength, byte[] data, long dataLength);

    Pointer EVP_PKEY_CTX_new(Pointer key, Pointer engine);

    void EVP_PKEY_CTX_free(Pointer keyContext);

    int EVP_PKEY_decrypt_init(Pointer keyContext);

    int EVP_PKEY_decrypt(Pointer keyContext, byte[] out, LongByReference outLength, byte[] in, long inLength);

    long ERR_get_error();

    void ERR_clear_error();
  }

  private final Functions f;
  private final String version;
  /** Digests by name, looked up once: the names are a handful, the handshakes many. */
  private final Map<String, Pointer> digests = new ConcurrentHashMap<>();

  private SystemLibCrypto(Functions f) {
    this.f = f;
    this.version = f.OpenSSL_version(0);
  }

  /** The machine's libcrypto 3, loaded once; null where there is none (see {@link #unavailableCause}). */
  static SystemLibCrypto system() {
    return Loaded.LIB;
  }

  /** Why {@link #system} is null, or null when it is not. */
  static String unavailableCause() {
    return Loaded.WHY;
  }

  /**
   * Loaded at first use. {@code -Dpostern.tls.libcrypto=false} leaves it out (BoringSSL then signs),
   * to compare the two on one machine.
   */
  private static final class Loaded {
    static final String WHY;
    static final SystemLibCrypto LIB;

    static {
      String why = null;
      SystemLibCrypto lib = null;
      if (!Boolean.parseBoolean(System.getProperty("postern.tls.libcrypto", "true"))) {
        why = "turned off (postern.tls.libcrypto=false)";
      } else {
        try {
          lib = new SystemLibCrypto(Native.load("libcrypto.so.3", Functions.class));
          if (lib.version == null || !lib.version.startsWith("OpenSSL 3")) {
            why = "libcrypto.so.3 is not OpenSSL 3 (" + lib.version + ")";
            lib = null;
          }
        } catch (UnsatisfiedLinkError | RuntimeException e) {
          why = "libcrypto.so.3 not loadable (" + e.getMessage() + ")";
        }
      }
      WHY = why;
      LIB = lib;
    }
  }

  String version() {
    return version;
  }

  Functions functions() {
    return f;
  }

  /** libcrypto's digest of this name ({@code SHA256}, {@code MD5-SHA1}...); null for a null name (Ed25519 has none). */
  Pointer digest(String name) {
    if (name == null) {
      return null;
    }
    Pointer digest = digests.computeIfAbsent(name, f::EVP_get_digestbyname);
    if (digest == null) {
      throw new IllegalStateException("libcrypto has no digest " + name);
    }
    return digest;
  }

  /** The key in libcrypto's form, from its PKCS#8 encoding; the caller frees it with {@link Functions#EVP_PKEY_free}. */
  Pointer privateKey(byte[] pkcs8) {
    Memory der = new Memory(pkcs8.length);
    der.write(0, pkcs8, 0, pkcs8.length);
    try {
      Pointer key = f.d2i_AutoPrivateKey(null, new PointerByReference(der), pkcs8.length);
      if (key == null) {
        throw new IllegalArgumentException("libcrypto cannot read this private key (" + error() + ")");
      }
      return key;
    } finally {
      // The key's bytes do not stay behind in freed native memory.
      der.clear();
      der.close();
    }
  }

  String error() {
    long e = f.ERR_get_error();
    f.ERR_clear_error();
    return "error 0x" + Long.toHexString(e);
  }
}
