package org.postern.auth;

import io.vertx.core.json.JsonObject;

import java.util.Base64;
import java.util.List;

/**
 * The outcome of one step of a SASL exchange, and the body of a {@code postern.auth.<mechanism>}
 * reply: {@code {status: challenge, challenge}}, {@code {status: success, user, auth}} or
 * {@code {status: failure, user?, reason}}. {@code auth} holds Exim's {@code $auth1..$auth3}.
 */
public record SaslResult(Status status, byte[] challenge, String user, List<String> auth, String reason) {
  /** Where the exchange stands. */
  public enum Status { CHALLENGE, SUCCESS, FAILURE }

  public static SaslResult challenge(byte[] data) {
    return new SaslResult(Status.CHALLENGE, data, null, List.of(), null);
  }

  public static SaslResult success(String user, List<String> auth) {
    return new SaslResult(Status.SUCCESS, null, user, auth, null);
  }

  public static SaslResult failure(String user, String reason) {
    return new SaslResult(Status.FAILURE, null, user, List.of(), reason);
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
    return json;
  }

  @Override
  public String toString() {
    return "SaslResult[" + status + (user == null ? "" : ", " + user) + (reason == null ? "" : ", " + reason) + "]";
  }
}
