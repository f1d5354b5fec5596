package org.postern.auth;

import io.vertx.core.json.JsonObject;

import java.util.Base64;
import java.util.List;

/**
 * The outcome of one step of a SASL exchange, and the body of a {@code postern.auth.<mechanism>}
 * reply: {@code {status: challenge, challenge}}, {@code {status: success, user, auth}},
 * {@code {status: failure, user?, reason, counted?}} or {@code {status: throttled, user?, reason}}.
 * {@code auth} holds Exim's {@code $auth1..$auth3}.
 *
 * @param counted for a failure: whether it says anything about the password, and so counts toward
 *     {@code smtp_max_auth_failures} and the failure windows. A mechanism that cannot use the
 *     user's stored scheme fails uncounted (sent as {@code counted: false}).
 */
public record SaslResult(Status status, byte[] challenge, String user, List<String> auth, String reason,
                         boolean counted) {
  /** Where the exchange stands. THROTTLED: a failure window was full, no password was checked. */
  public enum Status { CHALLENGE, SUCCESS, FAILURE, THROTTLED }

  public static SaslResult challenge(byte[] data) {
    return new SaslResult(Status.CHALLENGE, data, null, List.of(), null, false);
  }

  public static SaslResult success(String user, List<String> auth) {
    return new SaslResult(Status.SUCCESS, null, user, auth, null, false);
  }

  /** A failure that counts: the credentials were checked and were wrong (or were unusable input). */
  public static SaslResult failure(String user, String reason) {
    return new SaslResult(Status.FAILURE, null, user, List.of(), reason, true);
  }

  /**
   * The failure of a Vert.x Auth provider's check: uncounted when it could not check the password
   * at all ({@link UnusableSecretException}), else a wrong password.
   */
  static SaslResult rejected(String user, Throwable cause) {
    return cause instanceof UnusableSecretException unusable ? uncountedFailure(user, unusable.getMessage())
        : failure(user, "incorrect authentication data");
  }

  /** A failure that reveals nothing about the password, e.g. a mechanism the stored scheme cannot serve. */
  public static SaslResult uncountedFailure(String user, String reason) {
    return new SaslResult(Status.FAILURE, null, user, List.of(), reason, false);
  }

  /** Refused before any password check because a failure window is full; {@code reason} names it. */
  public static SaslResult throttled(String user, String reason) {
    return new SaslResult(Status.THROTTLED, null, user, List.of(), reason, false);
  }

  /** A counted failure: the attempt keeps its place in the failure windows. */
  boolean keepsReservation() {
    return status == Status.FAILURE && counted;
  }

  /** Wire form. {@code auth} values may hold a password: it never leaves the node's bus. */
  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("status", status.name().toLowerCase());
    if (challenge != null) {
      json.put("challenge", Base64.getEncoder().encodeToString(challenge));
    }
    if (user != null) {
      json.put("user", user);
    }
    if (reason != null) {
      json.put("reason", reason);
    }
    if (status == Status.FAILURE && !counted) {
      json.put("counted", false);
    }
    return json;
  }

  @Override
  public String toString() {
    return "SaslResult[" + status + (user == null ? "" : ", " + user) + (reason == null ? "" : ", " + reason) + "]";
  }
}
