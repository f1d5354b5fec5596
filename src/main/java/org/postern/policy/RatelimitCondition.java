package org.postern.policy;

import org.postern.expand.ExpansionException;

import io.vertx.core.Future;

import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * {@code ratelimit = limit / period / options... / key}: Exim's rate limit, true when the sender's
 * rate <em>exceeds</em> the limit, so it is written with {@code deny} or {@code defer}:
 * <pre>
 * - deny:  { ratelimit: "100 / 1h / per_rcpt / $sender_host_address", message: "Too many recipients ($sender_rate/$sender_rate_period)" }
 * - defer: { ratelimit: "5 / 10s / per_conn / strict" }
 * - warn:  { "!ratelimit": "10 / 1m / per_mail / noupdate / $authenticated_id" }
 * </pre>
 *
 * <h2>The spec</h2>
 * <ul>
 *   <li><b>limit</b>: a non-negative number, decimals allowed; with {@code per_byte} a K, M or G
 *       suffix multiplies by 1024, 1024² or 1024³.
 *   <li><b>period</b>: an Exim time, {@code 30s}, {@code 5m}, {@code 1h30m}, {@code 1d}, {@code 1w}
 *       (or bare seconds), longer than zero.
 *   <li><b>options</b>, at most one of each kind:
 *     <ul>
 *       <li>what is counted: {@code per_conn} (the first evaluation in an SMTP connection counts one,
 *           by {@code $connection_id}), {@code per_mail} (the first in a MAIL transaction, by
 *           {@code $connection_id} and {@code $transaction_number}), {@code per_rcpt} and
 *           {@code per_cmd} (every evaluation counts one; {@code per_cmd} when none is given),
 *           {@code per_byte} (every evaluation counts {@code $message_size}; that is known at the
 *           data stage only, and before it an evaluation counts 0, which tests the rate without
 *           adding to it);
 *       <li>{@code leaky} (default): an event that takes the rate over the limit is not counted, so
 *           a client that keeps trying while refused is let in again once its accepted traffic has
 *           left the window; {@code strict}: every event counts, refused ones too;
 *       <li>{@code noupdate} or {@code readonly}: measure only, never count.
 *     </ul>
 *   <li><b>key</b>: the last item when it is not an option, an expansion such as
 *       {@code $authenticated_id}; {@code $sender_host_address} when absent. Unknown variables are
 *       configuration errors. A key that expands to nothing is still a key (all such clients share it).
 * </ul>
 *
 * <h2>Measurement</h2>
 * The rate is the number of events in the last {@code period}, this one included, estimated by a
 * {@link SlidingWindow} counter (error bound there). Counters live in {@link RatelimitStore}, a
 * Vert.x shared map that a cluster shares. Counters are keyed, as in Exim, by what is counted, the
 * period and the expanded key ({@code per_rcpt/3600000ms/192.0.2.1}): rules with different limits
 * on the same key share a count (a {@code warn} at 50 and a {@code deny} at 100), rules with
 * different periods or units do not. As in Exim, two counting {@code per_cmd} rules on the same key
 * each count the event; give one of them {@code noupdate}.
 *
 * <p>After an evaluation that could measure, {@code $sender_rate} (the rate with one decimal,
 * {@code "3.0"}, as Exim prints it), {@code $sender_rate_limit} and {@code $sender_rate_period} (as
 * written in the spec) are set for the rule's {@code message} and {@code log_message} and for the
 * rest of the ACL.
 *
 * <h2>Deferring</h2>
 * Without a Vert.x instance, when the key does not expand, or when the store fails, the condition
 * answers {@link Outcome#DEFER}, as Exim defers on ratelimit database errors: it never lets a
 * message through because it could not count.
 */
public final class RatelimitCondition implements AclCondition {
  private final RatelimitSpec spec;
  private final LongSupplier clock;

  public RatelimitCondition(RatelimitSpec spec, LongSupplier clock) {
    this.spec = spec;
    this.clock = clock;
  }

  /** Parses a spec, with the system clock; {@link IllegalArgumentException} says what is malformed. */
  public static RatelimitCondition parse(String spec) {
    return new RatelimitCondition(RatelimitSpec.parse(spec), System::currentTimeMillis);
  }

  /** As {@link #parse(String)}, with the clock a test drives. */
  static RatelimitCondition parse(String spec, LongSupplier clock) {
    return new RatelimitCondition(RatelimitSpec.parse(spec), clock);
  }

  @Override
  public Future<Outcome> test(AclContext context) {
    if (context.vertx() == null) {
      return Future.succeededFuture(Outcome.DEFER);
    }
    String storeKey;
    try {
      storeKey = spec.storeKey(spec.key().expand(context::variable));
    } catch (ExpansionException e) {
      return Future.succeededFuture(Outcome.DEFER);
    }
    long now = clock.getAsLong();
    RatelimitStore store = new RatelimitStore(context.vertx());
    String marker = onceMarker(storeKey, context);
    Future<Boolean> alreadyCounted = marker == null ? Future.succeededFuture(false) : store.seen(marker);
    return alreadyCounted
        .compose(seen -> store.count(storeKey, seen ? 0 : events(context), spec, now))
        .compose(m -> marker != null && m.counted()
            ? store.markSeen(marker, spec.periodMillis()).map(m)
            : Future.succeededFuture(m))
        .map(m -> {
          String rate = String.format(Locale.ROOT, "%.1f", m.rate());
          // -bh shows which counter was read and whether this event went into it.
          context.trace().accept("  ratelimit " + storeKey + ": rate " + rate + (m.counted() ? ", counted" : ", not counted"));
          context.put("sender_rate", rate);
          context.put("sender_rate_limit", spec.limitText());
          context.put("sender_rate_period", spec.periodText());
          return m.rate() > spec.limit() ? Outcome.TRUE : Outcome.FALSE;
        })
        .otherwise(Outcome.DEFER);
  }

  /**
   * For per_conn and per_mail, the shared-map key remembering that this connection (transaction)
   * was counted; it lives one period, after which the count itself has left the window. Null for
   * the other units, and when the session gave no connection id (then every evaluation counts).
   * A connection's ACL checks run one after another, so check-then-mark cannot race with itself.
   */
  private String onceMarker(String storeKey, AclContext context) {
    String connection = context.variable("connection_id");
    if (connection == null) {
      return null;
    }
    return switch (spec.unit()) {
      case PER_CONN -> "counted/" + connection + "/" + storeKey;
      case PER_MAIL -> "counted/" + connection + "." + context.variable("transaction_number") + "/" + storeKey;
      default -> null;
    };
  }

  private long events(AclContext context) {
    if (spec.unit() != RatelimitSpec.Unit.PER_BYTE) {
      return 1;
    }
    String size = context.variable("message_size");
    try {
      return size == null ? 0 : Math.max(0, Long.parseLong(size.strip()));
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  @Override
  public String describe() {
    return "ratelimit = " + spec.source();
  }
}
