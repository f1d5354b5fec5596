package org.postern.auth;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.apache.commons.codec.digest.Sha2Crypt;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;
import org.bouncycastle.crypto.generators.PKCS5S2ParametersGenerator;
import org.bouncycastle.crypto.params.Argon2Parameters;
import org.bouncycastle.crypto.params.KeyParameter;

/**
 * Dovecot passwd-file password schemes: the {@code {SCHEME}secret} after {@code user:} in
 * {@code conf/passwd}. Callers split off the scheme name; this class checks passwords against
 * the secret, makes new secrets, and extracts what the challenge-response mechanisms need.
 *
 * <p>Supported schemes, as Dovecot writes them (names are caseless, as in Dovecot):
 *
 * <ul>
 *   <li>{@code PLAIN} (alias {@code CLEARTEXT}): the password itself.
 *   <li>{@code CRAM-MD5} (alias {@code HMAC-MD5}): 64 hex digits, the HMAC-MD5 context, see
 *       {@link CramMd5Key}.
 *   <li>{@code BLF-CRYPT}: a bcrypt string, {@code $2a$}, {@code $2b$} or {@code $2y$}.
 *   <li>{@code SCRAM-SHA-256}: {@code iterations,base64(salt),base64(StoredKey),base64(ServerKey)}.
 *   <li>{@code SHA512-CRYPT}, {@code SHA256-CRYPT}: glibc's {@code $6$} and {@code $5$} crypt
 *       strings (with or without {@code rounds=}), as {@code mkpasswd} and Dovecot write them.
 *   <li>{@code ARGON2ID}: the PHC string {@code $argon2id$v=19$m=KiB,t=passes,p=lanes$salt$hash}
 *       (unpadded base64), as the {@code argon2} tool and {@code doveadm pw -s ARGON2ID} write it.
 * </ul>
 *
 * <p>Which SASL mechanisms a scheme can serve is {@link #serves}: PLAIN and LOGIN any scheme
 * (they receive the password), CRAM-MD5 only a recoverable secret, SCRAM-SHA-256 its own keys.
 *
 * <p>Passwords are used as their UTF-8 bytes with no normalisation, as Dovecot does, so secrets
 * made by {@code doveadm pw} and by {@link #create} agree. Nothing here logs, and no exception
 * message or {@code toString()} contains a password or secret.
 */
public final class PasswordSchemes {
  /** Iteration count of new SCRAM secrets and of credentials derived from PLAIN (Dovecot's). */
  static final int SCRAM_ITERATIONS = 4096;
  /** Dovecot refuses SCRAM entries below this (RFC 5802 says SHOULD be at least 4096). */
  static final int SCRAM_MIN_ITERATIONS = 4096;
  /** Cost of new BLF-CRYPT secrets. */
  static final int BCRYPT_COST = 10;

  /** Dovecot's ARGON2ID defaults for new secrets (libargon2's m=64 MiB, t=3, p=1). */
  static final int ARGON2_MEMORY_KIB = 65536;
  static final int ARGON2_PASSES = 3;
  static final int ARGON2_LANES = 1;
  /**
   * The largest Argon2 cost accepted from a stored secret: each check allocates m KiB, so an entry
   * asking for gigabytes would let one AUTH exhaust the heap. 1 GiB is far above any default.
   */
  static final int ARGON2_MAX_MEMORY_KIB = 1 << 20;
  static final int ARGON2_MAX_PASSES = 64;

  private static final int SCRAM_SALT_LENGTH = 16;
  private static final Pattern SHA2_CRYPT =
      Pattern.compile("\\$([56])\\$(rounds=[0-9]{1,9}\\$)?[./A-Za-z0-9]{1,16}\\$[./A-Za-z0-9]{43,86}");
  private static final Pattern ARGON2ID = Pattern.compile(
      "\\$argon2id\\$v=19\\$m=([0-9]{1,8}),t=([0-9]{1,3}),p=([0-9]{1,3})\\$([A-Za-z0-9+/]{11,})\\$([A-Za-z0-9+/]{16,})");
  private static final Pattern BCRYPT =
      Pattern.compile("\\$2[aby]\\$[0-9]{2}\\$[./A-Za-z0-9]{53}");
  private static final Pattern DIGITS = Pattern.compile("[0-9]{1,10}");
  private static final SecureRandom RANDOM = new SecureRandom();

  /**
   * Key for salts that must look random but stay stable: SCRAM salts derived for PLAIN users and
   * the fake salts of unknown users. It is random per JVM rather than fixed, because a salt
   * computed from public or guessable input alone would let any client tell unknown users from
   * real ones, and a salt computed from the password with a public function would hand every
   * client a fast offline test of that password.
   */
  private static final byte[] SALT_KEY = randomBytes(32);

  private PasswordSchemes() {}

  /**
   * Checks a plaintext password against a stored secret. Unknown scheme, malformed secret,
   * missing arguments and empty passwords give {@code false}; this never throws for bad input.
   * Comparisons take the same time wherever the first difference is.
   *
   * @param scheme the scheme name without braces, e.g. {@code BLF-CRYPT}
   * @param storedSecret the text after {@code {SCHEME}}
   * @param password the password the client sent
   */
  public static boolean verify(String scheme, String storedSecret, String password) {
    // An empty password never logs in: an empty secret means "no password set".
    if (scheme == null || storedSecret == null || password == null || password.isEmpty()) {
      return false;
    }
    byte[] pw = password.getBytes(StandardCharsets.UTF_8);
    try {
      switch (canonical(scheme)) {
        case "PLAIN":
          // Hashing both sides first keeps the comparison independent of the lengths too.
          return MessageDigest.isEqual(sha256(storedSecret.getBytes(StandardCharsets.UTF_8)), sha256(pw));
        case "CRAM-MD5": {
          byte[] stored = CramMd5Key.fromDovecotHex(storedSecret).dovecotContext();
          return MessageDigest.isEqual(stored, CramMd5Key.fromPassword(pw).dovecotContext());
        }
        case "BLF-CRYPT":
          return BCRYPT.matcher(storedSecret).matches() && OpenBSDBCrypt.checkPassword(storedSecret, pw);
        case "SCRAM-SHA-256": {
          ScramCredentials stored = parseScram(storedSecret);
          if (stored == null) {
            return false;
          }
          ScramCredentials computed = scramFromPassword(pw, stored.salt(), stored.iterations());
          // Non-short-circuit &: both keys are always compared.
          return MessageDigest.isEqual(stored.storedKey(), computed.storedKey())
              & MessageDigest.isEqual(stored.serverKey(), computed.serverKey());
        }
        case "SHA512-CRYPT":
        case "SHA256-CRYPT":
          return verifySha2Crypt(canonical(scheme), storedSecret, pw);
        case "ARGON2ID":
          return verifyArgon2id(storedSecret, pw);
        default:
          return false;
      }
    } catch (RuntimeException e) {
      // Malformed secrets surface as assorted exceptions from the decoders and Bouncy Castle;
      // their messages may quote the secret, so they are dropped, not wrapped.
      return false;
    }
  }

  /**
   * Makes a stored secret from a plaintext password, like {@code doveadm pw -s SCHEME}, and
   * returns the whole {@code {SCHEME}secret} text. BLF-CRYPT uses cost 10 and the {@code $2y$}
   * form Dovecot writes; SCRAM-SHA-256 uses a random 16-byte salt and 4096 iterations;
   * SHA512-CRYPT and SHA256-CRYPT glibc's default 5000 rounds; ARGON2ID Dovecot's m=64 MiB, t=3, p=1.
   *
   * @throws IllegalArgumentException for an unsupported scheme, an empty password, or a PLAIN
   *     password that a passwd-file line cannot hold (':', CR, LF or NUL)
   */
  public static String create(String scheme, String password) {
    if (password == null || password.isEmpty()) {
      throw new IllegalArgumentException("password is empty");
    }
    String name = scheme == null ? "" : scheme.toUpperCase(Locale.ROOT);
    byte[] pw = password.getBytes(StandardCharsets.UTF_8);
    switch (canonical(name)) {
      case "PLAIN":
        if (password.chars().anyMatch(c -> c == ':' || c == '\r' || c == '\n' || c == 0)) {
          throw new IllegalArgumentException("a PLAIN password cannot contain ':', CR, LF or NUL");
        }
        return "{" + name + "}" + password;
      case "CRAM-MD5":
        return "{" + name + "}" + CramMd5Key.fromPassword(pw).dovecotHex();
      case "BLF-CRYPT":
        return "{" + name + "}" + bcrypt(pw, BCRYPT_COST);
      case "SCRAM-SHA-256":
        return "{" + name + "}" + formatScram(scramFromPassword(pw, randomBytes(SCRAM_SALT_LENGTH), SCRAM_ITERATIONS));
      case "SHA512-CRYPT":
        return "{" + name + "}" + Sha2Crypt.sha512Crypt(pw);
      case "SHA256-CRYPT":
        return "{" + name + "}" + Sha2Crypt.sha256Crypt(pw);
      case "ARGON2ID":
        return "{" + name + "}" + argon2id(pw, randomBytes(16), ARGON2_MEMORY_KIB, ARGON2_PASSES, ARGON2_LANES, 32);
      default:
        // The scheme name comes from the administrator and is not secret.
        throw new IllegalArgumentException("unsupported password scheme: " + scheme);
    }
  }

  /** True when {@link #verify} knows the scheme (including aliases). */
  public static boolean isSupported(String scheme) {
    return scheme != null && !canonical(scheme).isEmpty();
  }

  /**
   * True when a secret stored in {@code scheme} can authenticate a client using the SASL
   * {@code mechanism}: PLAIN and LOGIN send the password, so every known scheme serves them;
   * CRAM-MD5 needs the HMAC key (PLAIN or CRAM-MD5 secrets, RFC 2195 section 3); SCRAM-SHA-256
   * needs StoredKey and ServerKey (PLAIN or SCRAM-SHA-256 secrets, RFC 5802 section 3).
   */
  public static boolean serves(String scheme, String mechanism) {
    if (!isSupported(scheme)) {
      return false;
    }
    String s = canonical(scheme);
    return switch (mechanism.toUpperCase(Locale.ROOT)) {
      case "PLAIN", "LOGIN" -> true;
      case "CRAM-MD5" -> s.equals("PLAIN") || s.equals("CRAM-MD5");
      case "SCRAM-SHA-256" -> s.equals("PLAIN") || s.equals("SCRAM-SHA-256");
      default -> false;
    };
  }

  /**
   * The HMAC-MD5 key CRAM-MD5 needs, from a PLAIN or CRAM-MD5 secret. Empty for schemes that
   * cannot provide it (BLF-CRYPT, SCRAM-SHA-256, unknown) and for malformed or empty secrets.
   */
  public static Optional<CramMd5Key> cramMd5Key(String scheme, String storedSecret) {
    if (scheme == null || storedSecret == null || storedSecret.isEmpty()) {
      return Optional.empty();
    }
    try {
      switch (canonical(scheme)) {
        case "PLAIN":
          return Optional.of(CramMd5Key.fromPassword(storedSecret));
        case "CRAM-MD5":
          return Optional.of(CramMd5Key.fromDovecotHex(storedSecret));
        default:
          return Optional.empty();
      }
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }

  /**
   * SCRAM-SHA-256 server credentials from a SCRAM-SHA-256 secret, or derived from a PLAIN one
   * with 4096 iterations and a salt derived from the user name and the secret, so that repeated
   * lookups in this JVM agree (the derivation is keyed with a per-JVM random key, so the salt
   * reveals nothing about the password). Empty for other schemes and malformed or empty secrets.
   *
   * @param user the user name, which only feeds the derived salt
   */
  public static Optional<ScramCredentials> scramSha256(String user, String scheme, String storedSecret) {
    if (scheme == null || storedSecret == null || storedSecret.isEmpty()) {
      return Optional.empty();
    }
    try {
      switch (canonical(scheme)) {
        case "SCRAM-SHA-256":
          return Optional.ofNullable(parseScram(storedSecret));
        case "PLAIN": {
          byte[] pw = storedSecret.getBytes(StandardCharsets.UTF_8);
          byte[] salt = derivedSalt("plain", user == null ? "" : user, storedSecret);
          return Optional.of(scramFromPassword(pw, salt, SCRAM_ITERATIONS));
        }
        default:
          return Optional.empty();
      }
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }

  // ---- package-private helpers, shared with ScramSha256Server and the tests ----

  /** bcrypt in Dovecot's {@code $2y$} form with a random salt; tests use a low cost. */
  static String bcrypt(byte[] password, int cost) {
    return OpenBSDBCrypt.generate("2y", password, randomBytes(16), cost);
  }

  /**
   * A 16-byte salt from HMAC-SHA-256 under the per-JVM {@link #SALT_KEY}: stable for the same
   * inputs, unpredictable without the key. {@code purpose} keeps different uses apart.
   */
  static byte[] derivedSalt(String purpose, String... parts) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(SALT_KEY, "HmacSHA256"));
      mac.update(purpose.getBytes(StandardCharsets.UTF_8));
      for (String part : parts) {
        byte[] bytes = part.getBytes(StandardCharsets.UTF_8);
        // Length-prefixed so that ("ab", "c") and ("a", "bc") differ.
        mac.update(new byte[] {(byte) (bytes.length >>> 24), (byte) (bytes.length >>> 16),
            (byte) (bytes.length >>> 8), (byte) bytes.length});
        mac.update(bytes);
      }
      return Arrays.copyOf(mac.doFinal(), SCRAM_SALT_LENGTH);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 unavailable", e);
    }
  }

  static byte[] randomBytes(int n) {
    byte[] b = new byte[n];
    RANDOM.nextBytes(b);
    return b;
  }

  /** SaltedPassword, then StoredKey and ServerKey, per RFC 5802 section 3. */
  static ScramCredentials scramFromPassword(byte[] password, byte[] salt, int iterations) {
    PKCS5S2ParametersGenerator pbkdf2 = new PKCS5S2ParametersGenerator(new SHA256Digest());
    // Bouncy Castle rather than the JCE: the JCE refuses empty HMAC keys, and PBKDF2 must accept
    // any password bytes Dovecot accepts.
    pbkdf2.init(password, salt, iterations);
    byte[] salted = ((KeyParameter) pbkdf2.generateDerivedMacParameters(256)).getKey();
    try {
      byte[] clientKey = hmacSha256(salted, "Client Key".getBytes(StandardCharsets.US_ASCII));
      byte[] serverKey = hmacSha256(salted, "Server Key".getBytes(StandardCharsets.US_ASCII));
      return new ScramCredentials(salt, iterations, sha256(clientKey), serverKey);
    } finally {
      Arrays.fill(salted, (byte) 0);
    }
  }

  static byte[] hmacSha256(byte[] key, byte[] data) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(data);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 unavailable", e);
    }
  }

  static byte[] sha256(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA-256 unavailable", e);
    }
  }

  /** glibc crypt's {@code $6$}/{@code $5$}: recompute with the stored salt and rounds, compare. */
  private static boolean verifySha2Crypt(String scheme, String storedSecret, byte[] pw) {
    java.util.regex.Matcher m = SHA2_CRYPT.matcher(storedSecret);
    if (!m.matches() || !m.group(1).equals(scheme.equals("SHA512-CRYPT") ? "6" : "5")) {
      return false;
    }
    // Sha2Crypt takes the salt and rounds from the stored string's prefix, as crypt(3) does.
    String computed = scheme.equals("SHA512-CRYPT") ? Sha2Crypt.sha512Crypt(pw, storedSecret)
        : Sha2Crypt.sha256Crypt(pw, storedSecret);
    return MessageDigest.isEqual(storedSecret.getBytes(StandardCharsets.US_ASCII),
        computed.getBytes(StandardCharsets.US_ASCII));
  }

  /** The PHC string's parameters, salt and hash (RFC 9106's Argon2id, version 0x13 only). */
  private static boolean verifyArgon2id(String storedSecret, byte[] pw) {
    java.util.regex.Matcher m = ARGON2ID.matcher(storedSecret);
    if (!m.matches()) {
      return false;
    }
    int memory = Integer.parseInt(m.group(1));
    int passes = Integer.parseInt(m.group(2));
    int lanes = Integer.parseInt(m.group(3));
    if (memory > ARGON2_MAX_MEMORY_KIB || passes < 1 || passes > ARGON2_MAX_PASSES || lanes < 1
        || memory < 8 * lanes) {
      return false;
    }
    Base64.Decoder b64 = Base64.getDecoder();
    byte[] salt = b64.decode(m.group(4));
    byte[] expected = b64.decode(m.group(5));
    String computed = argon2id(pw, salt, memory, passes, lanes, expected.length);
    return MessageDigest.isEqual(storedSecret.getBytes(StandardCharsets.US_ASCII),
        computed.getBytes(StandardCharsets.US_ASCII));
  }

  /** Argon2id (version 0x13) as a PHC string with unpadded base64, the form libargon2 encodes. */
  static String argon2id(byte[] password, byte[] salt, int memoryKib, int passes, int lanes, int length) {
    Argon2Parameters parameters = new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id)
        .withVersion(Argon2Parameters.ARGON2_VERSION_13).withMemoryAsKB(memoryKib).withIterations(passes)
        .withParallelism(lanes).withSalt(salt).build();
    Argon2BytesGenerator generator = new Argon2BytesGenerator();
    generator.init(parameters);
    byte[] hash = new byte[length];
    generator.generateBytes(password, hash);
    Base64.Encoder b64 = Base64.getEncoder().withoutPadding();
    return "$argon2id$v=19$m=" + memoryKib + ",t=" + passes + ",p=" + lanes + "$" + b64.encodeToString(salt)
        + "$" + b64.encodeToString(hash);
  }

  /** Dovecot 2.3's SCRAM-SHA-256 text, or null when malformed. */
  static ScramCredentials parseScram(String secret) {
    String[] fields = secret.split(",", -1);
    if (fields.length != 4 || !DIGITS.matcher(fields[0]).matches()) {
      return null;
    }
    long iterations = Long.parseLong(fields[0]);
    if (iterations < SCRAM_MIN_ITERATIONS || iterations > Integer.MAX_VALUE) {
      return null;
    }
    try {
      Base64.Decoder b64 = Base64.getDecoder();
      byte[] salt = b64.decode(fields[1]);
      byte[] storedKey = b64.decode(fields[2]);
      byte[] serverKey = b64.decode(fields[3]);
      if (salt.length == 0
          || storedKey.length != ScramCredentials.KEY_LENGTH
          || serverKey.length != ScramCredentials.KEY_LENGTH) {
        return null;
      }
      return new ScramCredentials(salt, (int) iterations, storedKey, serverKey);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  static String formatScram(ScramCredentials c) {
    Base64.Encoder b64 = Base64.getEncoder();
    return c.iterations() + "," + b64.encodeToString(c.salt()) + ","
        + b64.encodeToString(c.storedKey()) + "," + b64.encodeToString(c.serverKey());
  }

  /** The scheme's canonical name, or "" when unknown. */
  /** The schemes {@link #verify} knows, by their canonical names (as {@code -bV} lists them). */
  public static List<String> names() {
    return List.of("PLAIN", "CRAM-MD5", "BLF-CRYPT", "SCRAM-SHA-256", "SHA512-CRYPT", "SHA256-CRYPT", "ARGON2ID");
  }

  private static String canonical(String scheme) {
    switch (scheme.toUpperCase(Locale.ROOT)) {
      case "PLAIN":
      case "CLEARTEXT":
        return "PLAIN";
      case "CRAM-MD5":
      case "HMAC-MD5":
        return "CRAM-MD5";
      case "BLF-CRYPT":
        return "BLF-CRYPT";
      case "SCRAM-SHA-256":
        return "SCRAM-SHA-256";
      case "SHA512-CRYPT":
        return "SHA512-CRYPT";
      case "SHA256-CRYPT":
        return "SHA256-CRYPT";
      case "ARGON2ID":
        return "ARGON2ID";
      default:
        return "";
    }
  }
}
