package org.postern.queue;

import org.postern.config.RetryError;

import io.vertx.core.json.JsonObject;

import java.time.Instant;

/**
 * What the retry database knows about one failing destination, as Exim's {@code dbdata_retry}:
 * when it first failed, when it was last tried, when it may be tried next, whether it is past the
 * final cutoff of its rule, and the last error.
 *
 * @param key         {@code T:host:ip} for a host, {@code R:user@domain} or {@code R:domain} for an address
 * @param error       kind of the last failure
 * @param text        the last error's text, printable ASCII, at most {@link #MAX_TEXT} characters
 */
public record RetryRecord(String key, Instant firstFailed, Instant lastTry, Instant nextTry, boolean expired,
                          RetryError error, String text) {
  /** Exim keeps 150 characters of the error text. */
  public static final int MAX_TEXT = 150;

  JsonObject toJson() {
    return new JsonObject().put("key", key).put("first_failed", firstFailed.toEpochMilli())
        .put("last_try", lastTry.toEpochMilli()).put("next_try", nextTry.toEpochMilli()).put("expired", expired)
        .put("error", error.name().toLowerCase(java.util.Locale.ROOT)).put("text", text);
  }

  static RetryRecord fromJson(JsonObject j) {
    return new RetryRecord(j.getString("key"), Instant.ofEpochMilli(j.getLong("first_failed")),
        Instant.ofEpochMilli(j.getLong("last_try")), Instant.ofEpochMilli(j.getLong("next_try")),
        j.getBoolean("expired", false),
        RetryError.valueOf(j.getString("error", "other").toUpperCase(java.util.Locale.ROOT)),
        j.getString("text", ""));
  }
}
