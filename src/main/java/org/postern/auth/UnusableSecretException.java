package org.postern.auth;

import org.postern.bus.AuthReply;

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

  /**
   * The failure of a Vert.x Auth provider's check: uncounted when it could not check the password
   * at all (this exception), else a wrong password.
   */
  static AuthReply rejection(String user, Throwable cause) {
    return cause instanceof UnusableSecretException unusable ? AuthReply.uncountedFailure(user, unusable.getMessage())
        : AuthReply.failure(user, "incorrect authentication data");
  }
}
