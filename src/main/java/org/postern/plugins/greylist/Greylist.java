package org.postern.plugins.greylist;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.AsyncMap;

import java.time.Clock;
import java.time.Duration;
import java.util.Locale;

/**
 * Postgrey's algorithm over a Vert.x shared-data map (cluster-wide when Vert.x is clustered,
 * node-local otherwise). A triplet (client network, sender, recipient) seen for the first time is
 * refused; a retry after {@code delay} and within {@code retry_window} confirms it, and a confirmed
 * triplet passes for {@code pass_period} after it was last seen. A client network with
 * {@code auto_pass_clients} confirmed triplets passes for everything (postgrey's auto-whitelist).
 *
 * <p>Times come from the {@link Clock} and are kept in the entries, so the decision never depends on
 * when the map drops an entry; the map's TTLs only bound its size. Two nodes racing on one triplet
 * can at worst refuse one more retry, which greylisting tolerates by design.
 */
final class Greylist {
  /** The shared-data map's name. */
  static final String MAP = "postern.greylist";
  private static final String FIRST = "first";
  private static final String PASSED = "passed";
  private static final String PASSES = "passes";
  private static final String SEEN = "seen";

  private final Vertx vertx;
  private final GreylistSettings settings;
  private final Clock clock;

  Greylist(Vertx vertx, GreylistSettings settings, Clock clock) {
    this.vertx = vertx;
    this.settings = settings;
    this.clock = clock;
  }

  /** True when the delivery attempt is to be refused for now (greylisted). */
  Future<Boolean> greylisted(String network, String sender, String recipient) {
    String triplet = "t/" + network + "/" + sender.toLowerCase(Locale.ROOT) + "/" + recipient.toLowerCase(Locale.ROOT);
    String client = "c/" + network;
    return vertx.sharedData().<String, JsonObject>getAsyncMap(MAP).compose(map -> map.get(client).compose(c -> {
      long now = clock.millis();
      if (c != null && settings.autoPassClients() > 0 && c.getInteger(PASSES, 0) >= settings.autoPassClients()
          && now - c.getLong(SEEN, 0L) <= settings.passPeriod().toMillis()) {
        return map.put(client, c.copy().put(SEEN, now), ttl(settings.passPeriod())).map(false);
      }
      return map.get(triplet).compose(t -> decide(map, triplet, client, c, t, now));
    }));
  }

  private Future<Boolean> decide(AsyncMap<String, JsonObject> map, String triplet, String client, JsonObject c,
                                 JsonObject t, long now) {
    if (t != null && t.containsKey(PASSED) && now - t.getLong(PASSED) <= settings.passPeriod().toMillis()) {
      return map.put(triplet, t.copy().put(PASSED, now), ttl(settings.passPeriod())).map(false);
    }
    boolean pending = t != null && !t.containsKey(PASSED) && now - t.getLong(FIRST) <= settings.retryWindow().toMillis();
    if (!pending) {
      // New, or its retry window or pass period is over: it starts again.
      return map.put(triplet, new JsonObject().put(FIRST, now), ttl(settings.retryWindow())).map(true);
    }
    if (now - t.getLong(FIRST) < settings.delay().toMillis()) {
      return Future.succeededFuture(true);
    }
    JsonObject counted = c != null && now - c.getLong(SEEN, 0L) <= settings.passPeriod().toMillis()
        ? c.copy() : new JsonObject();
    counted.put(PASSES, counted.getInteger(PASSES, 0) + 1).put(SEEN, now);
    return map.put(triplet, t.copy().put(PASSED, now), ttl(settings.passPeriod()))
        .compose(v -> map.put(client, counted, ttl(settings.passPeriod())))
        .map(false);
  }

  /** Shared-data TTLs are real milliseconds; a test clock may run ahead, so they only bound the map. */
  private static long ttl(Duration d) {
    return Math.max(1, d.toMillis());
  }
}
