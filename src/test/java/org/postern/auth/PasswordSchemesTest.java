package org.postern.auth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;
import org.junit.jupiter.api.Test;

class PasswordSchemesTest {
  // RFC 2195 section 2.
  private static final String RFC2195_PASSWORD = "tanstaaftanstaaf";
  private static final byte[] RFC2195_CHALLENGE =
      "<1896.697170952@postoffice.reston.mci.net>".getBytes(StandardCharsets.US_ASCII);
  private static final String RFC2195_DIGEST = "b913a602c7eda7a495b4e6e7334d3890";

  // Written by Dovecot itself: src/auth/test-password-scheme.c (password "test") and the
  // documented `doveadm pw -s CRAM-MD5 -p password` output.
  private static final String DOVECOT_CRAM_TEST =
      "e02d374fde0dc75a17a557039a3a5338c7743304777dccd376f332bee68d2cf6";
  private static final String DOVECOT_CRAM_PASSWORD =
      "9186d855e11eba527a7a52ca82b313e180d62234f0acc9051b527243d41e2740";
  private static final String DOVECOT_SCRAM_TEST = "4096,LfNGSFqiFykEZ1xDAYlnKQ==,"
      + "HACNf9CII7cMz3XjRy/Oh3Ae2LHApoDyNw74d3YtFws=,AQH0j7Hf8J12g8eNBadvzlNB2am3PxgNwFCFd3RxEaw=";
  private static final String DOVECOT_BLF_TEST =
      "$2y$05$11ipvo5dR6CwkzwmhwM26OXgzXwhV2PyPuLV.Qi31ILcRcThQpEiW";
  // RFC 7677 user "user", password "pencil", in Dovecot's format (as GNU SASL's test suite has it).
  private static final String RFC7677_SCRAM = "4096,W22ZaJ0SNY7soEsUEjb6gQ==,"
      + "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=,wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=";

  private static String hex(byte[] b) {
    return HexFormat.of().formatHex(b);
  }

  private static byte[] jceHmacMd5(byte[] key, byte[] data) throws Exception {
    Mac mac = Mac.getInstance("HmacMD5");
    mac.init(new SecretKeySpec(key, "HmacMD5"));
    return mac.doFinal(data);
  }

  /** The part after "{SCHEME}". */
  private static String secretOf(String stored) {
    return stored.substring(stored.indexOf('}') + 1);
  }

  // ---- CRAM-MD5 ----

  @Test
  void cramMd5FromPasswordMatchesRfc2195() {
    CramMd5Key key = CramMd5Key.fromPassword(RFC2195_PASSWORD);
    assertEquals(RFC2195_DIGEST, hex(key.hmac(RFC2195_CHALLENGE)));
    assertTrue(key.verify(RFC2195_CHALLENGE, HexFormat.of().parseHex(RFC2195_DIGEST)));
    assertFalse(key.verify(RFC2195_CHALLENGE, new byte[16]));
  }

  @Test
  void cramMd5FromPrecomputedContextMatchesRfc2195() {
    String stored = PasswordSchemes.create("CRAM-MD5", RFC2195_PASSWORD);
    assertTrue(stored.startsWith("{CRAM-MD5}"));
    String secret = secretOf(stored);
    assertEquals(64, secret.length());
    CramMd5Key fromContext = PasswordSchemes.cramMd5Key("CRAM-MD5", secret).orElseThrow();
    assertEquals(RFC2195_DIGEST, hex(fromContext.hmac(RFC2195_CHALLENGE)));
    // Upper-case hex is the same context.
    CramMd5Key upper = CramMd5Key.fromDovecotHex(secret.toUpperCase());
    assertEquals(RFC2195_DIGEST, hex(upper.hmac(RFC2195_CHALLENGE)));
  }

  @Test
  void cramMd5ContextMatchesWhatDovecotWrites() {
    assertEquals("{CRAM-MD5}" + DOVECOT_CRAM_TEST, PasswordSchemes.create("CRAM-MD5", "test"));
    assertEquals("{CRAM-MD5}" + DOVECOT_CRAM_PASSWORD, PasswordSchemes.create("CRAM-MD5", "password"));
    assertTrue(PasswordSchemes.verify("CRAM-MD5", DOVECOT_CRAM_TEST, "test"));
    assertTrue(PasswordSchemes.verify("HMAC-MD5", DOVECOT_CRAM_PASSWORD, "password"));
    assertFalse(PasswordSchemes.verify("CRAM-MD5", DOVECOT_CRAM_TEST, "Test"));
    assertFalse(PasswordSchemes.verify("CRAM-MD5", DOVECOT_CRAM_TEST, "password"));
  }

  @Test
  void dovecotContextAnswersLikeTheJdkHmac() throws Exception {
    CramMd5Key key = CramMd5Key.fromDovecotHex(DOVECOT_CRAM_TEST);
    byte[] challenge = "<12345.1234567890@mail.example>".getBytes(StandardCharsets.US_ASCII);
    assertArrayEquals(jceHmacMd5("test".getBytes(StandardCharsets.US_ASCII), challenge), key.hmac(challenge));
  }

  @Test
  void cramMd5MatchesJdkHmacAcrossBlockBoundariesAndLongKeys() throws Exception {
    // Challenge lengths around 55/56/64 exercise the one- and two-block padding; keys longer
    // than 64 bytes are hashed first.
    for (int keyLen : new int[] {1, 16, 63, 64, 65, 200}) {
      byte[] password = new byte[keyLen];
      Arrays.fill(password, (byte) ('a' + keyLen % 26));
      CramMd5Key key = CramMd5Key.fromPassword(password);
      CramMd5Key roundTripped = CramMd5Key.fromDovecotContext(key.dovecotContext());
      for (int len = 0; len <= 200; len++) {
        byte[] challenge = new byte[len];
        for (int i = 0; i < len; i++) {
          challenge[i] = (byte) (i * 7 + len);
        }
        byte[] expected = jceHmacMd5(password, challenge);
        assertArrayEquals(expected, key.hmac(challenge), "key " + keyLen + " challenge " + len);
        assertArrayEquals(expected, roundTripped.hmac(challenge), "context key " + keyLen + " challenge " + len);
      }
    }
  }

  @Test
  void md5MatchesJdk() throws Exception {
    MessageDigest jdk = MessageDigest.getInstance("MD5");
    for (int len = 0; len <= 300; len++) {
      byte[] data = new byte[len];
      for (int i = 0; i < len; i++) {
        data[i] = (byte) (i * 31 + 5);
      }
      assertArrayEquals(jdk.digest(data),
          CramMd5Key.Md5.finish(CramMd5Key.Md5.initialState(), 0, data), "length " + len);
    }
  }

  @Test
  void cramMd5KeyOnlyFromSchemesThatCanProvideIt() {
    CramMd5Key plain = PasswordSchemes.cramMd5Key("PLAIN", RFC2195_PASSWORD).orElseThrow();
    assertEquals(RFC2195_DIGEST, hex(plain.hmac(RFC2195_CHALLENGE)));
    assertTrue(PasswordSchemes.cramMd5Key("cleartext", RFC2195_PASSWORD).isPresent());
    assertEquals(Optional.empty(), PasswordSchemes.cramMd5Key("BLF-CRYPT", DOVECOT_BLF_TEST));
    assertEquals(Optional.empty(), PasswordSchemes.cramMd5Key("SCRAM-SHA-256", DOVECOT_SCRAM_TEST));
    assertEquals(Optional.empty(), PasswordSchemes.cramMd5Key("SHA512-CRYPT", "x"));
    assertEquals(Optional.empty(), PasswordSchemes.cramMd5Key("PLAIN", ""));
    assertEquals(Optional.empty(), PasswordSchemes.cramMd5Key("CRAM-MD5", DOVECOT_CRAM_TEST.substring(2)));
    assertEquals(Optional.empty(), PasswordSchemes.cramMd5Key("CRAM-MD5", "zz" + DOVECOT_CRAM_TEST.substring(2)));
    assertEquals(Optional.empty(), PasswordSchemes.cramMd5Key(null, "x"));
  }

  // ---- PLAIN ----

  @Test
  void plainVerifiesExactPasswordOnly() {
    assertTrue(PasswordSchemes.verify("PLAIN", "s3cret", "s3cret"));
    assertTrue(PasswordSchemes.verify("plain", "s3cret", "s3cret"));
    assertTrue(PasswordSchemes.verify("CLEARTEXT", "pässwörd", "pässwörd"));
    assertFalse(PasswordSchemes.verify("PLAIN", "s3cret", "s3cre"));
    assertFalse(PasswordSchemes.verify("PLAIN", "s3cret", "s3cret "));
    assertFalse(PasswordSchemes.verify("PLAIN", "s3cret", "S3cret"));
    // An empty secret is "no password", and an empty password never matches.
    assertFalse(PasswordSchemes.verify("PLAIN", "", ""));
    assertFalse(PasswordSchemes.verify("PLAIN", "s3cret", null));
  }

  @Test
  void createPlainRoundTripsAndRefusesWhatAPasswdLineCannotHold() {
    assertEquals("{PLAIN}s3cret", PasswordSchemes.create("PLAIN", "s3cret"));
    assertEquals("{PLAIN}s3cret", PasswordSchemes.create("plain", "s3cret"));
    assertTrue(PasswordSchemes.verify("PLAIN", secretOf(PasswordSchemes.create("PLAIN", "s3cret")), "s3cret"));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> PasswordSchemes.create("PLAIN", "pa:ss"));
    assertFalse(e.getMessage().contains("pa:ss"));
    assertThrows(IllegalArgumentException.class, () -> PasswordSchemes.create("PLAIN", "pa\nss"));
    assertThrows(IllegalArgumentException.class, () -> PasswordSchemes.create("PLAIN", ""));
  }

  // ---- BLF-CRYPT ----

  @Test
  void blfCryptVerifiesDovecotsOwnHash() {
    assertTrue(PasswordSchemes.verify("BLF-CRYPT", DOVECOT_BLF_TEST, "test"));
    assertFalse(PasswordSchemes.verify("BLF-CRYPT", DOVECOT_BLF_TEST, "Test"));
    assertFalse(PasswordSchemes.verify("BLF-CRYPT", DOVECOT_BLF_TEST, "test "));
  }

  @Test
  void blfCryptCreateWritesDovecotsFormWithCost10() {
    String stored = PasswordSchemes.create("BLF-CRYPT", "correct horse");
    assertTrue(stored.matches("\\{BLF-CRYPT\\}\\$2y\\$10\\$[./A-Za-z0-9]{53}"), "format");
    assertTrue(PasswordSchemes.verify("BLF-CRYPT", secretOf(stored), "correct horse"));
    assertFalse(PasswordSchemes.verify("BLF-CRYPT", secretOf(stored), "correct horsE"));
    // Fresh salt every time.
    assertNotEquals(stored, PasswordSchemes.create("BLF-CRYPT", "correct horse"));
  }

  @Test
  void blfCryptAcceptsAllThreePrefixes() {
    byte[] salt = new byte[16];
    for (String version : new String[] {"2a", "2b", "2y"}) {
      String hash = OpenBSDBCrypt.generate(version, "pw".getBytes(StandardCharsets.UTF_8), salt, 4);
      assertTrue(hash.startsWith("$" + version + "$"));
      assertTrue(PasswordSchemes.verify("BLF-CRYPT", hash, "pw"), version);
      assertFalse(PasswordSchemes.verify("BLF-CRYPT", hash, "px"), version);
    }
  }

  @Test
  void blfCryptMalformedIsFalseNotAnException() {
    String rest = DOVECOT_BLF_TEST.substring(4);
    for (String bad : new String[] {"$2y$05$short", "$2x$" + rest, "$1$" + rest, "$2y$99$" + DOVECOT_BLF_TEST.substring(7),
        "$2y$05$" + DOVECOT_BLF_TEST.substring(7, 58) + "!!", DOVECOT_BLF_TEST + "x", ""}) {
      assertDoesNotThrow(() -> assertFalse(PasswordSchemes.verify("BLF-CRYPT", bad, "test"), bad));
    }
  }

  // ---- SCRAM-SHA-256 ----

  @Test
  void scramVerifiesDovecotAndRfc7677Secrets() {
    assertTrue(PasswordSchemes.verify("SCRAM-SHA-256", DOVECOT_SCRAM_TEST, "test"));
    assertFalse(PasswordSchemes.verify("SCRAM-SHA-256", DOVECOT_SCRAM_TEST, "tess"));
    assertTrue(PasswordSchemes.verify("scram-sha-256", RFC7677_SCRAM, "pencil"));
    assertFalse(PasswordSchemes.verify("SCRAM-SHA-256", RFC7677_SCRAM, "pencil2"));
  }

  @Test
  void scramCredentialsFromStoredSecret() {
    ScramCredentials c = PasswordSchemes.scramSha256("user", "SCRAM-SHA-256", RFC7677_SCRAM).orElseThrow();
    assertEquals(4096, c.iterations());
    assertArrayEquals(Base64.getDecoder().decode("W22ZaJ0SNY7soEsUEjb6gQ=="), c.salt());
    assertArrayEquals(Base64.getDecoder().decode("WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY="), c.storedKey());
    assertArrayEquals(Base64.getDecoder().decode("wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="), c.serverKey());
  }

  @Test
  void scramCreateRoundTrips() {
    String stored = PasswordSchemes.create("SCRAM-SHA-256", "hunter2");
    assertTrue(stored.matches("\\{SCRAM-SHA-256\\}4096,[A-Za-z0-9+/]{22}==,[A-Za-z0-9+/]{43}=,[A-Za-z0-9+/]{43}="),
        "format");
    String secret = secretOf(stored);
    assertTrue(PasswordSchemes.verify("SCRAM-SHA-256", secret, "hunter2"));
    assertFalse(PasswordSchemes.verify("SCRAM-SHA-256", secret, "hunter3"));
    assertTrue(PasswordSchemes.scramSha256("bob", "SCRAM-SHA-256", secret).isPresent());
    // Random salt: the same password gives a different secret.
    assertNotEquals(stored, PasswordSchemes.create("SCRAM-SHA-256", "hunter2"));
  }

  @Test
  void scramMalformedSecretsAreRejected() {
    String[] f = RFC7677_SCRAM.split(",");
    String[] bad = {
      f[0] + "," + f[1] + "," + f[2], // three fields
      RFC7677_SCRAM + ",c4a49510", // GNU SASL's five-field form
      "1000," + f[1] + "," + f[2] + "," + f[3], // below Dovecot's minimum
      "99999999999," + f[1] + "," + f[2] + "," + f[3], // beyond int
      "-4096," + f[1] + "," + f[2] + "," + f[3],
      "x," + f[1] + "," + f[2] + "," + f[3],
      f[0] + ",,"  + f[2] + "," + f[3], // empty salt
      f[0] + "," + f[1] + ",!!!," + f[3], // not base64
      f[0] + "," + f[1] + "," + f[2].substring(4) + "," + f[3], // short StoredKey
      "",
    };
    for (String s : bad) {
      assertFalse(PasswordSchemes.verify("SCRAM-SHA-256", s, "pencil"), s);
      assertEquals(Optional.empty(), PasswordSchemes.scramSha256("user", "SCRAM-SHA-256", s), s);
    }
  }

  @Test
  void scramSecretWithAlteredServerKeyDoesNotVerify() {
    // StoredKey alone would accept the password; a ServerKey that does not belong to it means
    // the entry is damaged, and the client would reject our signature anyway.
    String[] f = RFC7677_SCRAM.split(",");
    String otherServerKey = PasswordSchemes.create("SCRAM-SHA-256", "x").split(",")[3];
    assertFalse(PasswordSchemes.verify("SCRAM-SHA-256", f[0] + "," + f[1] + "," + f[2] + "," + otherServerKey, "pencil"));
  }

  @Test
  void scramCredentialsDerivedFromPlainAreStableAndCorrect() {
    ScramCredentials a = PasswordSchemes.scramSha256("alice", "PLAIN", "s3cret").orElseThrow();
    ScramCredentials again = PasswordSchemes.scramSha256("alice", "PLAIN", "s3cret").orElseThrow();
    assertEquals(a, again);
    assertEquals(4096, a.iterations());
    assertEquals(16, a.salt().length);
    // The derived credentials are genuine SCRAM credentials for the PLAIN password.
    String asSecret = PasswordSchemes.formatScram(a);
    assertTrue(PasswordSchemes.verify("SCRAM-SHA-256", asSecret, "s3cret"));
    assertFalse(PasswordSchemes.verify("SCRAM-SHA-256", asSecret, "s3cres"));
    // The salt depends on the user and on the secret.
    assertFalse(Arrays.equals(a.salt(), PasswordSchemes.scramSha256("bob", "PLAIN", "s3cret").orElseThrow().salt()));
    assertFalse(Arrays.equals(a.salt(), PasswordSchemes.scramSha256("alice", "PLAIN", "other").orElseThrow().salt()));
  }

  @Test
  void scramCredentialsOnlyFromSchemesThatCanProvideThem() {
    assertEquals(Optional.empty(), PasswordSchemes.scramSha256("u", "CRAM-MD5", DOVECOT_CRAM_TEST));
    assertEquals(Optional.empty(), PasswordSchemes.scramSha256("u", "BLF-CRYPT", DOVECOT_BLF_TEST));
    assertEquals(Optional.empty(), PasswordSchemes.scramSha256("u", "PLAIN", ""));
    assertEquals(Optional.empty(), PasswordSchemes.scramSha256("u", "MD5-CRYPT", "$1$x"));
    assertEquals(Optional.empty(), PasswordSchemes.scramSha256("u", null, "x"));
  }

  // ---- general ----

  @Test
  void unknownSchemesAreRefused() {
    assertFalse(PasswordSchemes.verify("MD5-CRYPT", "$1$abc$def", "x"));
    assertFalse(PasswordSchemes.verify("", "x", "x"));
    assertFalse(PasswordSchemes.verify(null, "x", "x"));
    assertFalse(PasswordSchemes.isSupported("MD5-CRYPT"));
    assertTrue(PasswordSchemes.isSupported("blf-crypt"));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> PasswordSchemes.create("MD5-CRYPT", "topsecret"));
    assertFalse(e.getMessage().contains("topsecret"));
  }

  // ---- SHA512-CRYPT, SHA256-CRYPT, ARGON2ID (the schemes admins migrate from Dovecot with) ----
  // Test vectors made by independent tools (Debian bookworm), not by the code under test:
  //   mkpasswd -m sha-512 -S saltsaltsaltsalt Vector-pw-sha512            (package whois 5.5.17)
  //   mkpasswd -m sha-512 -R 10000 -S roundsSalt123456 Vector-pw-sha512
  //   mkpasswd -m sha-256 -S saltsaltsaltsalt Vector-pw-sha256
  //   echo -n Vector-pw-argon2id | argon2 saltsaltsaltsalt -id -t 3 -m 16 -p 1 -l 32 -e  (package argon2)
  //   echo -n Vector-pw-argon2id | argon2 saltsaltsalt0002 -id -t 2 -m 12 -p 4 -l 32 -e
  //   echo -n Vector-pw-ümlaut | argon2 saltsaltsalt0003 -id -t 1 -m 10 -p 2 -l 16 -e  (UTF-8 input)
  private static final String MKPASSWD_SHA512 = "$6$saltsaltsaltsalt$SBXlD5.yk3e/1ndANn.l4B0wY7ETdr2SqHwzOB8nSThNwX"
      + "vdbLpEeOnoyXd1d6P.qla5c9IHvp.IIKj834cfj/";
  private static final String MKPASSWD_SHA512_ROUNDS = "$6$rounds=10000$roundsSalt123456$2o3upigCTww3OaqUa2u9Uw55jNf"
      + "2M6B7qFquFzeHyDnjR96YTAxAusmjrYdm.F5OYbkXXHrrysw0og50J7eFQ0";
  private static final String MKPASSWD_SHA256 = "$5$saltsaltsaltsalt$h0MI.i3i/Z0K2W63r9HO1sIFg3OGrP6j5nXwGH5RrP.";
  private static final String ARGON2_CLI = "$argon2id$v=19$m=65536,t=3,p=1$c2FsdHNhbHRzYWx0c2FsdA$MQx8aP8GzKrV4Kts53+"
      + "9gyYJu54r2SSpt9Gevxg2PLs";
  private static final String ARGON2_CLI_LANES = "$argon2id$v=19$m=4096,t=2,p=4$c2FsdHNhbHRzYWx0MDAwMg$WY5u8ejgEw7pm"
      + "6aR/IduIOVgwdasGIqqW4YS4BQXeiE";
  private static final String ARGON2_CLI_UTF8 = "$argon2id$v=19$m=1024,t=1,p=2$c2FsdHNhbHRzYWx0MDAwMw$law+6JrEba5Ra"
      + "JoF+llFUA";

  @Test
  void sha512CryptVerifiesMkpasswdHashes() {
    assertTrue(PasswordSchemes.verify("SHA512-CRYPT", MKPASSWD_SHA512, "Vector-pw-sha512"));
    assertTrue(PasswordSchemes.verify("sha512-crypt", MKPASSWD_SHA512_ROUNDS, "Vector-pw-sha512"));
    assertFalse(PasswordSchemes.verify("SHA512-CRYPT", MKPASSWD_SHA512, "Vector-pw-sha51"));
    assertFalse(PasswordSchemes.verify("SHA512-CRYPT", MKPASSWD_SHA512_ROUNDS, "vector-pw-sha512"));
    // A $5$ string is not a SHA512-CRYPT secret, whatever the password.
    assertFalse(PasswordSchemes.verify("SHA512-CRYPT", MKPASSWD_SHA256, "Vector-pw-sha256"));
  }

  @Test
  void sha256CryptVerifiesMkpasswdHashes() {
    assertTrue(PasswordSchemes.verify("SHA256-CRYPT", MKPASSWD_SHA256, "Vector-pw-sha256"));
    assertFalse(PasswordSchemes.verify("SHA256-CRYPT", MKPASSWD_SHA256, "Vector-pw-sha512"));
    assertFalse(PasswordSchemes.verify("SHA256-CRYPT", MKPASSWD_SHA512, "Vector-pw-sha512"));
  }

  @Test
  void argon2idVerifiesHashesOfTheArgon2Tool() {
    assertTrue(PasswordSchemes.verify("ARGON2ID", ARGON2_CLI, "Vector-pw-argon2id"));
    assertTrue(PasswordSchemes.verify("argon2id", ARGON2_CLI_LANES, "Vector-pw-argon2id"));
    assertTrue(PasswordSchemes.verify("ARGON2ID", ARGON2_CLI_UTF8, "Vector-pw-ümlaut"));
    assertFalse(PasswordSchemes.verify("ARGON2ID", ARGON2_CLI, "Vector-pw-argon2iD"));
    assertFalse(PasswordSchemes.verify("ARGON2ID", ARGON2_CLI_UTF8, "Vector-pw-umlaut"));
  }

  @Test
  void argon2idRefusesOtherVariantsAndAbsurdCosts() {
    // argon2i, an older version, a memory cost over the cap: false, never an OutOfMemoryError.
    assertFalse(PasswordSchemes.verify("ARGON2ID", ARGON2_CLI.replace("argon2id", "argon2i"), "Vector-pw-argon2id"));
    assertFalse(PasswordSchemes.verify("ARGON2ID", ARGON2_CLI.replace("v=19", "v=16"), "Vector-pw-argon2id"));
    assertFalse(PasswordSchemes.verify("ARGON2ID", ARGON2_CLI.replace("m=65536", "m=99999999"), "Vector-pw-argon2id"));
    assertFalse(PasswordSchemes.verify("ARGON2ID", ARGON2_CLI.replace("t=3", "t=0"), "Vector-pw-argon2id"));
    assertFalse(PasswordSchemes.verify("ARGON2ID", ARGON2_CLI.replace("p=1", "p=0"), "Vector-pw-argon2id"));
  }

  @Test
  void newSchemesCreateWhatTheyVerify() {
    for (String scheme : new String[] {"SHA512-CRYPT", "SHA256-CRYPT", "ARGON2ID"}) {
      String stored = PasswordSchemes.create(scheme, "Round-trip-pw");
      assertTrue(stored.startsWith("{" + scheme + "}"), stored);
      assertTrue(PasswordSchemes.verify(scheme, secretOf(stored), "Round-trip-pw"), stored);
      assertFalse(PasswordSchemes.verify(scheme, secretOf(stored), "Round-trip-pW"), stored);
    }
    assertTrue(secretOf(PasswordSchemes.create("SHA512-CRYPT", "x")).startsWith("$6$"));
    assertTrue(secretOf(PasswordSchemes.create("SHA256-CRYPT", "x")).startsWith("$5$"));
    assertTrue(secretOf(PasswordSchemes.create("ARGON2ID", "x")).startsWith("$argon2id$v=19$m=65536,t=3,p=1$"));
  }

  @Test
  void whichSchemeServesWhichMechanism() {
    for (String scheme : new String[] {"PLAIN", "CRAM-MD5", "BLF-CRYPT", "SCRAM-SHA-256", "SHA512-CRYPT",
        "SHA256-CRYPT", "ARGON2ID"}) {
      assertTrue(PasswordSchemes.serves(scheme, "PLAIN"), scheme);
      assertTrue(PasswordSchemes.serves(scheme, "LOGIN"), scheme);
      assertEquals(scheme.equals("PLAIN") || scheme.equals("CRAM-MD5"), PasswordSchemes.serves(scheme, "CRAM-MD5"),
          scheme);
      assertEquals(scheme.equals("PLAIN") || scheme.equals("SCRAM-SHA-256"),
          PasswordSchemes.serves(scheme, "SCRAM-SHA-256"), scheme);
    }
    assertFalse(PasswordSchemes.serves("MD5-CRYPT", "PLAIN"));
    assertFalse(PasswordSchemes.serves("", "LOGIN"));
  }

  @Test
  void verifyNeverThrowsOnGarbage() {
    String[] schemes = {"PLAIN", "CRAM-MD5", "BLF-CRYPT", "SCRAM-SHA-256", "SHA512-CRYPT", "SHA256-CRYPT", "ARGON2ID",
        "NOPE"};
    String[] secrets = {"", ",", ",,,", "$", "$2y$", "$6$", "$5$rounds=x$a$b", "$argon2id$v=19$m=8,t=1,p=1$$",
        "$argon2id$v=19$m=8,t=1,p=1$!!!!!!!!!!!!$AAAAAAAAAAAAAAAAAAAAAA", "{PLAIN}x", "\u0000", "\uD800", "é".repeat(64), "0".repeat(64)};
    for (String scheme : schemes) {
      for (String secret : secrets) {
        assertDoesNotThrow(() -> PasswordSchemes.verify(scheme, secret, "pw"), scheme);
        assertDoesNotThrow(() -> PasswordSchemes.verify(scheme, secret, null), scheme);
        assertDoesNotThrow(() -> PasswordSchemes.verify(scheme, null, "pw"), scheme);
      }
    }
    // 64 zeros is well-formed CRAM-MD5 hex, so it must be a plain mismatch.
    assertFalse(PasswordSchemes.verify("CRAM-MD5", "0".repeat(64), "pw"));
  }

  @Test
  void secretsStayOutOfMessagesAndToString() {
    CramMd5Key key = CramMd5Key.fromDovecotHex(DOVECOT_CRAM_TEST);
    assertFalse(key.toString().contains(DOVECOT_CRAM_TEST.substring(0, 8)));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> CramMd5Key.fromDovecotHex("secretpw" + DOVECOT_CRAM_TEST.substring(8)));
    assertFalse(e.getMessage().contains("secretpw"));
    e = assertThrows(IllegalArgumentException.class, () -> CramMd5Key.fromDovecotHex("secretpw"));
    assertFalse(e.getMessage().contains("secretpw"));

    ScramCredentials c = PasswordSchemes.scramSha256("user", "SCRAM-SHA-256", RFC7677_SCRAM).orElseThrow();
    String s = c.toString();
    Base64.Encoder b64 = Base64.getEncoder();
    assertFalse(s.contains(b64.encodeToString(c.storedKey()).substring(0, 8)), s);
    assertFalse(s.contains(b64.encodeToString(c.serverKey()).substring(0, 8)), s);
    assertFalse(s.contains(Arrays.toString(c.storedKey()).substring(0, 8)), s);
  }

  @Test
  void scramCredentialsAreDefensivelyCopiedAndChecked() {
    byte[] salt = {1, 2, 3};
    byte[] key = new byte[32];
    ScramCredentials c = new ScramCredentials(salt, 4096, key, key);
    salt[0] = 9;
    key[0] = 9;
    assertEquals(1, c.salt()[0]);
    assertEquals(0, c.storedKey()[0]);
    c.serverKey()[0] = 7;
    assertEquals(0, c.serverKey()[0]);
    assertThrows(IllegalArgumentException.class, () -> new ScramCredentials(new byte[0], 4096, key, key));
    assertThrows(IllegalArgumentException.class, () -> new ScramCredentials(salt, 0, key, key));
    assertThrows(IllegalArgumentException.class, () -> new ScramCredentials(salt, 4096, new byte[31], key));
  }
}
