package org.postern.bus;

import io.vertx.core.json.JsonObject;

import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;

/**
 * {@code postern.auth.<MECHANISM>} request: one step of a SASL exchange (RFC 4422, RFC 4954). The
 * session sends one with {@code first} for the AUTH command and one for every line the client sends
 * after a 334 challenge; the reply is an {@link AuthReply}. An authenticator keeps the exchange's
 * state under {@code exchange} until it answers anything but a challenge, or until
 * {@code postern.auth.cancel} ({@link AuthCancel}) names it.
 *
 * @param exchange   the exchange's id (the session's id): every step of one exchange carries it
 * @param mechanism  the SASL mechanism, upper case, as the address names it ({@code PLAIN}, {@code XOAUTH2})
 * @param first      the AUTH command itself: a new exchange starts, replacing any under this id
 * @param response   the client's response, base64-decoded: with {@code first} the initial response
 *                   (empty for {@code =}, null when the client sent none), else the line after the
 *                   last challenge. It may hold a password: {@link #toString()} never shows it
 * @param generation the configuration generation the session runs under, or null
 * @param variables  the session's {@code $variables} ({@code sender_host_address}, {@code authenticator}, ...)
 */
public record AuthStep(String exchange, String mechanism, boolean first, byte[] response, String generation,
                       JsonObject variables) implements BusRecord {

  public AuthStep {
    Objects.requireNonNull(exchange, "exchange");
    Objects.requireNonNull(mechanism, "mechanism");
    response = response == null ? null : response.clone();
    variables = variables == null ? new JsonObject() : variables;
  }

  /** A copy: the record stays as it was sent. */
  @Override
  public byte[] response() {
    return response == null ? null : response.clone();
  }

  @Override
  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("exchange", exchange).put("mechanism", mechanism).put("first", first)
        .put("variables", variables);
    if (response != null) {
      json.put("response", Base64.getEncoder().encodeToString(response));
    }
    if (generation != null) {
      json.put("generation", generation);
    }
    return json;
  }

  /** {@link IllegalArgumentException} for a missing exchange or mechanism, or a response that is not base64. */
  public static AuthStep fromJson(JsonObject json) {
    String exchange = json.getString("exchange");
    String mechanism = json.getString("mechanism");
    if (exchange == null || mechanism == null) {
      throw new IllegalArgumentException("an AUTH step needs exchange and mechanism");
    }
    String response = json.getString("response");
    return new AuthStep(exchange, mechanism, json.getBoolean("first", false),
        response == null ? null : Base64.getDecoder().decode(response), json.getString("generation"),
        json.getJsonObject("variables", new JsonObject()));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof AuthStep s && exchange.equals(s.exchange) && mechanism.equals(s.mechanism)
        && first == s.first && Arrays.equals(response, s.response) && Objects.equals(generation, s.generation)
        && variables.equals(s.variables);
  }

  @Override
  public int hashCode() {
    return Objects.hash(exchange, mechanism, first, Arrays.hashCode(response), generation, variables);
  }

  /** Without the response, which may be a password. */
  @Override
  public String toString() {
    return "AuthStep[" + exchange + ", " + mechanism + (first ? ", first" : "")
        + (response == null ? "" : ", " + response.length + " octets") + "]";
  }
}
