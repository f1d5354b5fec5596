package org.postern.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The reply to an {@link AuthStep}, and the outcome of one step of a SASL exchange: a challenge
 * (the session sends it as {@code 334}), a success with the authenticated id, a failure, or a
 * refusal because a failure window is full.
 *
 * @param status    where the exchange stands
 * @param challenge with {@link Status#CHALLENGE}: the server's challenge, raw (base64 on the wire and in the 334)
 * @param user      with {@link Status#SUCCESS}: the authenticated id (the mechanism's user, which the
 *                  authenticator's {@code server_set_id} may replace); otherwise the user name the
 *                  client gave, for the log ({@code set_id=}), or null
 * @param auth      Exim's {@code $auth1..$auth3} from the mechanism, for {@code server_condition} and
 *                  {@code server_set_id}. They may hold the password (PLAIN's {@code $auth3}): the
 *                  authenticators use them and never pass them on to the session
 * @param reason    for the main log (never a secret), or null
 * @param counted   with {@link Status#FAILURE}: the failure says something about the password, and
 *                  so counts toward {@code smtp_max_auth_failures} and the failure windows. A
 *                  mechanism that cannot use the user's stored scheme fails uncounted
 * @param code      with a failure or a refusal: the SMTP reply code to send, or null for the default
 *                  ({@code 535 5.7.8} for a failure, {@code 454 4.7.0} for a refusal)
 * @param enhanced  the RFC 3463 enhanced code with {@code code}, or null
 */
public record AuthReply(Status status, byte[] challenge, String user, List<String> auth, String reason,
                        boolean counted, Integer code, String enhanced) implements BusRecord {

  /** Where the exchange stands. THROTTLED: a failure window was full, no password was checked. */
  public enum Status {
    CHALLENGE, SUCCESS, FAILURE, THROTTLED;

    public String wire() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** {@link IllegalArgumentException} for an unknown status. */
    public static Status fromWire(String wire) {
      return valueOf(wire.toUpperCase(Locale.ROOT));
    }
  }

  public AuthReply {
    Objects.requireNonNull(status, "status");
    if (status == Status.CHALLENGE && challenge == null) {
      throw new IllegalArgumentException("a challenge needs its data (empty is allowed)");
    }
    if (status == Status.SUCCESS && (user == null || user.isEmpty())) {
      throw new IllegalArgumentException("a success needs the authenticated id");
    }
    if (code != null && (code < 400 || code > 599 || status == Status.CHALLENGE || status == Status.SUCCESS)) {
      throw new IllegalArgumentException("reply code " + code + " with " + status.wire());
    }
    challenge = challenge == null ? null : challenge.clone();
    auth = auth == null ? List.of() : List.copyOf(auth);
    counted = status == Status.FAILURE && counted;
  }

  public static AuthReply challenge(byte[] data) {
    return new AuthReply(Status.CHALLENGE, data, null, List.of(), null, false, null, null);
  }

  /** @param auth the mechanism's {@code $auth1..$auth3} (empty once they have served) */
  public static AuthReply success(String user, List<String> auth) {
    return new AuthReply(Status.SUCCESS, null, user, auth, null, false, null, null);
  }

  /** A failure that counts: the credentials were checked and were wrong (or were unusable input). */
  public static AuthReply failure(String user, String reason) {
    return new AuthReply(Status.FAILURE, null, user, List.of(), reason, true, null, null);
  }

  /** A failure that reveals nothing about the password, e.g. a mechanism the stored scheme cannot serve. */
  public static AuthReply uncountedFailure(String user, String reason) {
    return new AuthReply(Status.FAILURE, null, user, List.of(), reason, false, null, null);
  }

  /**
   * The authenticator could not decide (it failed internally, or a service it asks did not answer):
   * {@code 454 4.7.0} (RFC 4954 6), not counted.
   */
  public static AuthReply temporaryFailure(String reason) {
    return new AuthReply(Status.FAILURE, null, null, List.of(), reason, false, 454, "4.7.0");
  }

  /** Refused before any password check because a failure window is full; {@code reason} names it. */
  public static AuthReply throttled(String user, String reason) {
    return new AuthReply(Status.THROTTLED, null, user, List.of(), reason, false, null, null);
  }

  /** A copy: the record stays as it was sent. */
  @Override
  public byte[] challenge() {
    return challenge == null ? null : challenge.clone();
  }

  /** A counted failure: the attempt keeps its place in the failure windows. */
  public boolean countedFailure() {
    return status == Status.FAILURE && counted;
  }

  /** Wire form; members are present only where they apply. */
  @Override
  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("status", status.wire());
    if (challenge != null) {
      json.put("challenge", Base64.getEncoder().encodeToString(challenge));
    }
    if (user != null) {
      json.put(status == Status.SUCCESS ? "authenticated_id" : "user", user);
    }
    if (!auth.isEmpty()) {
      json.put("auth", new JsonArray(auth));
    }
    if (reason != null) {
      json.put("reason", reason);
    }
    if (status == Status.FAILURE) {
      json.put("counted", counted);
    }
    if (code != null) {
      json.put("code", code);
    }
    if (enhanced != null) {
      json.put("enhanced", enhanced);
    }
    return json;
  }

  /**
   * {@link IllegalArgumentException} for a missing or unknown status, a challenge without data, a
   * success without {@code authenticated_id}, or a code outside 400-599. An absent {@code counted} is true: a failure counts unless it says not.
   */
  public static AuthReply fromJson(JsonObject json) {
    String wire = json.getString("status");
    if (wire == null) {
      throw new IllegalArgumentException("an AUTH reply needs a status");
    }
    Status status = Status.fromWire(wire);
    String challenge = json.getString("challenge");
    JsonArray auth = json.getJsonArray("auth", new JsonArray());
    return new AuthReply(status, challenge == null ? null : Base64.getDecoder().decode(challenge),
        json.getString(status == Status.SUCCESS ? "authenticated_id" : "user"),
        auth.stream().map(String::valueOf).toList(), json.getString("reason"), json.getBoolean("counted", true),
        json.getInteger("code"), json.getString("enhanced"));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof AuthReply r && status == r.status && Arrays.equals(challenge, r.challenge)
        && Objects.equals(user, r.user) && auth.equals(r.auth) && Objects.equals(reason, r.reason)
        && counted == r.counted && Objects.equals(code, r.code) && Objects.equals(enhanced, r.enhanced);
  }

  @Override
  public int hashCode() {
    return Objects.hash(status, Arrays.hashCode(challenge), user, auth, reason, counted, code, enhanced);
  }

  /** Without the challenge and the {@code $auth} values, which may hold secrets. */
  @Override
  public String toString() {
    return "AuthReply[" + status.wire() + (user == null ? "" : ", " + user) + (reason == null ? "" : ", " + reason)
        + (code == null ? "" : ", " + code) + "]";
  }
}
