package org.postern.auth;

import java.util.Arrays;
import java.util.Objects;

/**
 * What a SCRAM-SHA-256 server keeps for one user (RFC 5802 section 3): the salt and iteration
 * count it sends to the client, and StoredKey and ServerKey. The password itself is not needed.
 *
 * <p>The arrays are copied in and out so that a caller cannot change the credentials of a
 * lookup result behind the server's back. StoredKey and ServerKey are password equivalents for
 * this mechanism, so {@link #toString()} shows neither.
 *
 * @param salt the salt, at least one byte
 * @param iterations the PBKDF2 iteration count, at least 1
 * @param storedKey {@code SHA-256(HMAC(SaltedPassword, "Client Key"))}, 32 bytes
 * @param serverKey {@code HMAC(SaltedPassword, "Server Key")}, 32 bytes
 */
public record ScramCredentials(byte[] salt, int iterations, byte[] storedKey, byte[] serverKey) {
  /** The SHA-256 output length, which both keys must have. */
  static final int KEY_LENGTH = 32;

  /**
   * Checks and copies the parts.
   *
   * @throws IllegalArgumentException when a part is missing or has the wrong size (the message
   *     never contains key material)
   */
  public ScramCredentials {
    if (salt == null || salt.length == 0) {
      throw new IllegalArgumentException("SCRAM salt is empty");
    }
    if (iterations < 1) {
      throw new IllegalArgumentException("SCRAM iteration count must be positive");
    }
    if (storedKey == null || storedKey.length != KEY_LENGTH) {
      throw new IllegalArgumentException("SCRAM StoredKey must be " + KEY_LENGTH + " bytes");
    }
    if (serverKey == null || serverKey.length != KEY_LENGTH) {
      throw new IllegalArgumentException("SCRAM ServerKey must be " + KEY_LENGTH + " bytes");
    }
    salt = salt.clone();
    storedKey = storedKey.clone();
    serverKey = serverKey.clone();
  }

  @Override
  public byte[] salt() {
    return salt.clone();
  }

  @Override
  public byte[] storedKey() {
    return storedKey.clone();
  }

  @Override
  public byte[] serverKey() {
    return serverKey.clone();
  }

  // The record defaults compare arrays by identity; credentials are values.
  @Override
  public boolean equals(Object o) {
    return o instanceof ScramCredentials other
        && iterations == other.iterations
        && Arrays.equals(salt, other.salt)
        && Arrays.equals(storedKey, other.storedKey)
        && Arrays.equals(serverKey, other.serverKey);
  }

  @Override
  public int hashCode() {
    // Only public parts: a hash code can end up in logs or debuggers.
    return Objects.hash(Arrays.hashCode(salt), iterations);
  }

  @Override
  public String toString() {
    return "ScramCredentials[iterations=" + iterations + ", keys redacted]";
  }
}
