package org.postern.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * The key of a CRAM-MD5 exchange (RFC 2195): computes {@code HMAC-MD5(key, challenge)}.
 *
 * <p>HMAC-MD5 starts both of its hashes with one 64-byte block derived from the key (key XOR
 * ipad, key XOR opad). Dovecot's CRAM-MD5 scheme stores the two MD5 states after that block
 * instead of the password (RFC 2104 section 4), so this class keeps those two states and
 * carries on hashing from them. That needs an MD5 whose initial state can be set, which the
 * JDK does not offer, hence the small MD5 compression function below; it is only ever fed
 * public data (the challenge) on top of the secret states.
 *
 * <p>Instances are immutable. {@link #toString()} never shows the states: they answer any
 * challenge, so they are as good as the password here.
 */
public final class CramMd5Key {
  /** Length of Dovecot's stored context: outer state then inner state, 16 bytes each. */
  static final int CONTEXT_LENGTH = 32;

  private static final int BLOCK = 64;

  /** MD5 state after the (key XOR ipad) block. */
  private final int[] inner;
  /** MD5 state after the (key XOR opad) block. */
  private final int[] outer;

  private CramMd5Key(int[] inner, int[] outer) {
    this.inner = inner;
    this.outer = outer;
  }

  /** The key for a password given as text; like Dovecot, the key is its UTF-8 bytes. */
  public static CramMd5Key fromPassword(String password) {
    if (password == null) {
      throw new IllegalArgumentException("no password");
    }
    return fromPassword(password.getBytes(StandardCharsets.UTF_8));
  }

  /** The key for a password given as bytes (RFC 2104: keys longer than a block are hashed). */
  public static CramMd5Key fromPassword(byte[] password) {
    if (password == null) {
      throw new IllegalArgumentException("no password");
    }
    byte[] key = password.length > BLOCK ? md5(password) : password;
    byte[] ipad = new byte[BLOCK];
    byte[] opad = new byte[BLOCK];
    for (int i = 0; i < BLOCK; i++) {
      byte k = i < key.length ? key[i] : 0;
      ipad[i] = (byte) (k ^ 0x36);
      opad[i] = (byte) (k ^ 0x5c);
    }
    int[] inner = Md5.initialState();
    Md5.compress(inner, ipad, 0);
    int[] outer = Md5.initialState();
    Md5.compress(outer, opad, 0);
    return new CramMd5Key(inner, outer);
  }

  /**
   * The key from Dovecot's precomputed context (what {@code hmac_md5_get_cram_context} writes):
   * the outer state's words a, b, c, d, then the inner state's, each little-endian.
   *
   * @throws IllegalArgumentException when the context is not 32 bytes
   */
  public static CramMd5Key fromDovecotContext(byte[] context) {
    if (context == null || context.length != CONTEXT_LENGTH) {
      throw new IllegalArgumentException("CRAM-MD5 context must be " + CONTEXT_LENGTH + " bytes");
    }
    int[] outer = new int[4];
    int[] inner = new int[4];
    for (int i = 0; i < 4; i++) {
      outer[i] = Md5.readLe(context, i * 4);
      inner[i] = Md5.readLe(context, 16 + i * 4);
    }
    return new CramMd5Key(inner, outer);
  }

  /**
   * The key from the hex text after {@code {CRAM-MD5}} in a passwd file (64 hex digits, either
   * case).
   *
   * @throws IllegalArgumentException when the text is not 64 hex digits (the message does not
   *     repeat it)
   */
  public static CramMd5Key fromDovecotHex(String hex) {
    if (hex == null || hex.length() != CONTEXT_LENGTH * 2) {
      throw new IllegalArgumentException("CRAM-MD5 secret must be " + CONTEXT_LENGTH * 2 + " hex digits");
    }
    for (int i = 0; i < hex.length(); i++) {
      if (Character.digit(hex.charAt(i), 16) < 0 || hex.charAt(i) > 0x7f) {
        // HexFormat's own message would quote the offending text, which is secret.
        throw new IllegalArgumentException("CRAM-MD5 secret is not hex");
      }
    }
    return fromDovecotContext(HexFormat.of().parseHex(hex));
  }

  /** {@code HMAC-MD5(key, challenge)}, 16 bytes. */
  public byte[] hmac(byte[] challenge) {
    if (challenge == null) {
      throw new IllegalArgumentException("no challenge");
    }
    byte[] innerDigest = Md5.finish(inner.clone(), BLOCK, challenge);
    return Md5.finish(outer.clone(), BLOCK, innerDigest);
  }

  /**
   * True when {@code digest} is the HMAC of the challenge, compared in constant time (the
   * digest in a CRAM-MD5 response is hex; decode it first).
   */
  public boolean verify(byte[] challenge, byte[] digest) {
    return digest != null && MessageDigest.isEqual(hmac(challenge), digest);
  }

  /** Dovecot's stored form of this key (see {@link #fromDovecotContext(byte[])}). */
  byte[] dovecotContext() {
    byte[] out = new byte[CONTEXT_LENGTH];
    for (int i = 0; i < 4; i++) {
      Md5.writeLe(out, i * 4, outer[i]);
      Md5.writeLe(out, 16 + i * 4, inner[i]);
    }
    return out;
  }

  /** The same as {@link #dovecotContext()}, lower-case hex as Dovecot writes it. */
  String dovecotHex() {
    return HexFormat.of().formatHex(dovecotContext());
  }

  @Override
  public String toString() {
    return "CramMd5Key[redacted]";
  }

  private static byte[] md5(byte[] data) {
    return Md5.finish(Md5.initialState(), 0, data);
  }

  /** Just enough MD5 (RFC 1321) to resume hashing from a given state. */
  static final class Md5 {
    private static final int[] SHIFT = {
      7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
      5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
      4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
      6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    };

    // floor(abs(sin(i + 1)) * 2^32), written out rather than computed so no floating point
    // subtlety can change them.
    private static final int[] K = {
      0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
      0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
      0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
      0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
      0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
      0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
      0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
      0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
    };

    private Md5() {}

    static int[] initialState() {
      return new int[] {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
    }

    /** Runs one 64-byte block through the compression function, updating {@code state}. */
    static void compress(int[] state, byte[] block, int offset) {
      int[] m = new int[16];
      for (int i = 0; i < 16; i++) {
        m[i] = readLe(block, offset + i * 4);
      }
      int a = state[0];
      int b = state[1];
      int c = state[2];
      int d = state[3];
      for (int i = 0; i < 64; i++) {
        int f;
        int g;
        if (i < 16) {
          f = (b & c) | (~b & d);
          g = i;
        } else if (i < 32) {
          f = (d & b) | (~d & c);
          g = (5 * i + 1) & 15;
        } else if (i < 48) {
          f = b ^ c ^ d;
          g = (3 * i + 5) & 15;
        } else {
          f = c ^ (b | ~d);
          g = (7 * i) & 15;
        }
        int t = d;
        d = c;
        c = b;
        b = b + Integer.rotateLeft(a + f + K[i] + m[g], SHIFT[i]);
        a = t;
      }
      state[0] += a;
      state[1] += b;
      state[2] += c;
      state[3] += d;
    }

    /**
     * Hashes {@code data} on top of {@code state}, which has already absorbed {@code
     * alreadyHashed} bytes (a multiple of 64), and returns the digest. Changes {@code state}.
     */
    static byte[] finish(int[] state, long alreadyHashed, byte[] data) {
      int full = data.length - data.length % BLOCK;
      for (int off = 0; off < full; off += BLOCK) {
        compress(state, data, off);
      }
      int rest = data.length - full;
      // The tail, 0x80, zeros up to 56 mod 64, then the bit length: one or two blocks.
      byte[] tail = new byte[rest < 56 ? BLOCK : 2 * BLOCK];
      System.arraycopy(data, full, tail, 0, rest);
      tail[rest] = (byte) 0x80;
      long bits = (alreadyHashed + data.length) * 8;
      for (int i = 0; i < 8; i++) {
        tail[tail.length - 8 + i] = (byte) (bits >>> (8 * i));
      }
      for (int off = 0; off < tail.length; off += BLOCK) {
        compress(state, tail, off);
      }
      byte[] digest = new byte[16];
      for (int i = 0; i < 4; i++) {
        writeLe(digest, i * 4, state[i]);
      }
      return digest;
    }

    static int readLe(byte[] b, int off) {
      return (b[off] & 0xff) | (b[off + 1] & 0xff) << 8 | (b[off + 2] & 0xff) << 16 | (b[off + 3] & 0xff) << 24;
    }

    static void writeLe(byte[] b, int off, int v) {
      b[off] = (byte) v;
      b[off + 1] = (byte) (v >>> 8);
      b[off + 2] = (byte) (v >>> 16);
      b[off + 3] = (byte) (v >>> 24);
    }
  }
}
