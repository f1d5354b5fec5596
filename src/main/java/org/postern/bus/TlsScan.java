package org.postern.bus;

import io.vertx.core.json.JsonObject;

import java.util.Locale;

/**
 * Published (node-local) on {@code postern.event.tls.scanned} after each look at the TLS
 * certificate, key and CA files (every second, and after a configuration change): what it found.
 * JSON {@code {outcome}}.
 */
public record TlsScan(Outcome outcome) implements BusRecord {
  /** What a scan did. */
  public enum Outcome {
    /** Nothing changed since the last load or refusal: nothing was loaded, nothing logged. */
    UNCHANGED,
    /** A new certificate is in force. */
    RELOADED,
    /** The files changed but could not be read or were refused: the previous certificate stays in force. */
    FAILED;

    public String wire() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  @Override
  public JsonObject toJson() {
    return new JsonObject().put("outcome", outcome.wire());
  }

  /** {@link IllegalArgumentException} for a missing or unknown outcome. */
  public static TlsScan fromJson(JsonObject j) {
    String outcome = j.getString("outcome");
    if (outcome == null) {
      throw new IllegalArgumentException("no outcome");
    }
    return new TlsScan(Outcome.valueOf(outcome.toUpperCase(Locale.ROOT)));
  }
}
