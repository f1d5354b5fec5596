package org.postern.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Locale;

/**
 * {@code postern.queue.flush}: start a queue run. Cluster-wide control traffic, so it travels as
 * JSON ({@link #toJson()}; absent members mean false or none), answered by a {@link QueueFlushReply}:
 * <ul>
 * <li>{@code {}}: a queue run ({@code -q}); {@code force} ignores retry times ({@code -qf});
 * <li>{@code domain}: only messages with a pending recipient in that domain (ETRN, {@code -R});
 *     with {@code subdomains} also in its subdomains (ETRN {@code @domain});
 * <li>{@code ids}: only these messages ({@code -M});
 * <li>{@code thaw}: frozen messages too, thawed first ({@code -M}, {@code -qff}); without it they
 *     are left alone;
 * <li>{@code wait}: reply only once the deliveries it started are over (the command line waits
 *     for them before it exits); without it, reply as soon as they are started (ETRN).
 * </ul>
 * Every delivery holds the message's lock, so a runner in another process skips what this one is
 * delivering.
 *
 * @param domain     lower-cased, or null for every domain
 * @param ids        the message ids, or empty for no restriction
 * @param waitForDeliveries {@code wait}
 */
public record QueueFlushRequest(String domain, boolean subdomains, boolean force, List<String> ids, boolean thaw,
                                boolean waitForDeliveries) implements BusRecord {
  public QueueFlushRequest {
    domain = domain == null || domain.isBlank() ? null : domain.strip().toLowerCase(Locale.ROOT);
    ids = ids == null ? List.of() : List.copyOf(ids);
  }

  /**
   * {@code -M id...} and the admin API's {@code deliver}: these messages, now, retry times ignored,
   * thawed if frozen (as Exim's {@code -M}); {@code waitForDeliveries} as {@code wait}.
   */
  public static QueueFlushRequest deliver(List<String> ids, boolean waitForDeliveries) {
    return new QueueFlushRequest(null, false, true, ids, true, waitForDeliveries);
  }

  /** The JSON form, with only the members that are set (as {@code -q}'s {@code {wait: true}}). */
  @Override
  public JsonObject toJson() {
    JsonObject j = new JsonObject();
    if (domain != null) {
      j.put("domain", domain);
    }
    putIfTrue(j, "subdomains", subdomains);
    putIfTrue(j, "force", force);
    if (!ids.isEmpty()) {
      j.put("ids", new JsonArray(ids));
    }
    putIfTrue(j, "thaw", thaw);
    putIfTrue(j, "wait", waitForDeliveries);
    return j;
  }

  private static void putIfTrue(JsonObject j, String name, boolean value) {
    if (value) {
      j.put(name, true);
    }
  }

  /** The request of {@code j}; a null body is a plain queue run. */
  public static QueueFlushRequest fromJson(JsonObject j) {
    JsonObject body = j == null ? new JsonObject() : j;
    JsonArray ids = body.getJsonArray("ids", new JsonArray());
    return new QueueFlushRequest(body.getString("domain"), body.getBoolean("subdomains", false),
        body.getBoolean("force", false), ids.stream().map(String::valueOf).toList(),
        body.getBoolean("thaw", false), body.getBoolean("wait", false));
  }
}
