package org.postern.auth;

import javax.crypto.Mac;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The client side of SCRAM-SHA-256 (RFC 5802, RFC 7677) without channel binding, written for the
 * tests from the RFC alone (it shares no code with the server): client-first, client-final from
 * server-first, and the check of the server signature in server-final. ASCII user names and
 * passwords only (no SASLprep needed); ',' and '=' in the user name are escaped as RFC 5802 says.
 */
final class AuthScramClient {
  private static final SecureRandom RANDOM = new SecureRandom();

  private final String user;
  private final String password;
  private final String clientNonce;
  private String gs2Header = "n,,";
  private String clientFirstBare;
  private byte[] expectedServerSignature;

  AuthScramClient(String user, String password, String clientNonce) {
    this.user = user;
    this.password = password;
    this.clientNonce = clientNonce;
  }

  /** A client with a random 24-byte nonce. */
  static AuthScramClient random(String user, String password) {
    byte[] n = new byte[24];
    RANDOM.nextBytes(n);
    return new AuthScramClient(user, password, Base64.getEncoder().encodeToString(n));
  }

  /** Asks for another authorization identity: gs2 header {@code n,a=authzid,} (RFC 5802 section 7). */
  AuthScramClient authzid(String authzid) {
    gs2Header = "n,a=" + authzid.replace("=", "=3D").replace(",", "=2C") + ",";
    return this;
  }

  /** client-first-message: the gs2 header (no binding; "n,," without an authzid) and the bare part. */
  String clientFirst() {
    clientFirstBare = "n=" + user.replace("=", "=3D").replace(",", "=2C") + ",r=" + clientNonce;
    return gs2Header + clientFirstBare;
  }

  /**
   * client-final-message for this server-first-message. Checks that the server's nonce extends
   * ours, then computes the proof; remembers the server signature to expect.
   */
  String clientFinal(String serverFirst) throws GeneralSecurityException {
    if (clientFirstBare == null) {
      throw new IllegalStateException("clientFirst() first");
    }
    Map<String, String> attrs = attributes(serverFirst);
    String nonce = attrs.get("r");
    if (nonce == null || !nonce.startsWith(clientNonce) || nonce.length() == clientNonce.length()) {
      throw new GeneralSecurityException("server nonce does not extend the client nonce: " + serverFirst);
    }
    if (attrs.get("s") == null || attrs.get("i") == null) {
      throw new GeneralSecurityException("server-first without salt or iteration count: " + serverFirst);
    }
    byte[] salt = Base64.getDecoder().decode(attrs.get("s"));
    int iterations = Integer.parseInt(attrs.get("i"));
    String withoutProof = "c=" + Base64.getEncoder().encodeToString(gs2Header.getBytes(StandardCharsets.US_ASCII))
        + ",r=" + nonce;
    String authMessage = clientFirstBare + "," + serverFirst + "," + withoutProof;

    SecretKeyFactory f = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256");
    byte[] salted = f.generateSecret(new PBEKeySpec(password.toCharArray(), salt, iterations, 256)).getEncoded();
    byte[] clientKey = hmac(salted, "Client Key");
    byte[] storedKey = MessageDigest.getInstance("SHA-256").digest(clientKey);
    byte[] clientSignature = hmac(storedKey, authMessage);
    byte[] proof = new byte[clientKey.length];
    for (int i = 0; i < proof.length; i++) {
      proof[i] = (byte) (clientKey[i] ^ clientSignature[i]);
    }
    byte[] serverKey = hmac(salted, "Server Key");
    expectedServerSignature = hmac(serverKey, authMessage);
    return withoutProof + ",p=" + Base64.getEncoder().encodeToString(proof);
  }

  /** The server signature this client expects, base64 (after {@link #clientFinal}). */
  String expectedServerSignature() {
    return Base64.getEncoder().encodeToString(expectedServerSignature);
  }

  /** Checks server-final-message ({@code v=ServerSignature}); throws when it is an error or the signature is wrong. */
  void verifyServerFinal(String serverFinal) throws GeneralSecurityException {
    if (expectedServerSignature == null) {
      throw new IllegalStateException("clientFinal() first");
    }
    Map<String, String> attrs = attributes(serverFinal);
    if (attrs.containsKey("e")) {
      throw new GeneralSecurityException("server error: " + attrs.get("e"));
    }
    String v = attrs.get("v");
    if (v == null) {
      throw new GeneralSecurityException("server-final without v=: " + serverFinal);
    }
    byte[] got;
    try {
      got = Base64.getDecoder().decode(v);
    } catch (IllegalArgumentException e) {
      throw new GeneralSecurityException("server signature is not base64: " + serverFinal);
    }
    if (!MessageDigest.isEqual(expectedServerSignature, got)) {
      throw new GeneralSecurityException("server signature mismatch: the server does not know the credentials");
    }
  }

  private static Map<String, String> attributes(String message) {
    Map<String, String> m = new LinkedHashMap<>();
    for (String part : message.split(",")) {
      if (part.length() >= 2 && part.charAt(1) == '=') {
        m.putIfAbsent(part.substring(0, 1), part.substring(2));
      }
    }
    return m;
  }

  private static byte[] hmac(byte[] key, String data) throws GeneralSecurityException {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(key, "HmacSHA256"));
    return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
  }
}
