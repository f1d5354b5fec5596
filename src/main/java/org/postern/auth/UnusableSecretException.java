package org.postern.auth;

/**
 * A password check that could not be made: the user's stored secret is in a scheme the checker
 * cannot use (unknown to {@link PasswordSchemes}, or not serving the mechanism). Such a failure
 * reveals nothing about the password, so it is not counted as a failed guess. The message names
 * the scheme, never the secret.
 */
final class UnusableSecretException extends Exception {
  UnusableSecretException(String message) {
    super(message, null, false, false);
  }
}
