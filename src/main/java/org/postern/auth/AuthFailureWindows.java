package org.postern.auth;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.postern.net.Cidr;
import org.postern.policy.SlidingWindow;
import org.postern.policy.SlidingWindowMap;
import org.postern.config.AuthSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * The AUTH failure windows: failed password checks per client address
 * ({@code auth_failures_per_host}), per IPv4 /24 or IPv6 /64 ({@code auth_failures_per_network})
 * and per user name ({@code auth_failures_per_user}), each a {@link SlidingWindow} of
 * {@code auth_failures_window} in the Vert.x async map {@value #MAP}, so a cluster shares them.
 *
 * <p>A password check first {@linkplain #reserve reserves} one failure in every window, and only
 * runs when every reservation fits under its limit; an attempt that did not fail gives its places
 * back. Checking the count first and adding the failure after the check (and its delay) let 100
 * parallel AUTHs from one address make 100 password checks against a limit of 10 (issue 11).
 *
 * <p>Storage errors never lock users out: they are logged and the attempt goes on unthrottled, as
 * the local map only fails when Vert.x is closing.
 */
public final class AuthFailureWindows {
  /** The async map's name. */
  public static final String MAP = "postern.auth.failures";
  /** The network a client address belongs to for {@code auth_failures_per_network}. */
  static final int IPV4_NETWORK_PREFIX = 24;
  static final int IPV6_NETWORK_PREFIX = 64;

  private static final Logger LOG = LoggerFactory.getLogger(AuthFailureWindows.class);

  private final SlidingWindowMap windows;
  private final LongSupplier clock;

  /** @param clock milliseconds since the epoch; tests pass their own to move time */
  public AuthFailureWindows(Vertx vertx, LongSupplier clock) {
    this.windows = new SlidingWindowMap(vertx, MAP);
    this.clock = clock;
  }

  /** One window an attempt is counted in: its key, limit and (for log lines) what it counts. */
  private record Window(String key, int limit, String what) {
  }

  /** A place taken in one window, in the bucket it was counted in. */
  private record Slot(String key, long bucket) {
  }

  /**
   * The outcome of {@link #reserve}: either places in every window (give them back with
   * {@link #release} unless the attempt failed), or the window that was full.
   */
  public final class Reservation {
    private final List<Slot> slots;
    private final long period;
    private final String refusedBy;

    private Reservation(List<Slot> slots, long period, String refusedBy) {
      this.slots = slots;
      this.period = period;
      this.refusedBy = refusedBy;
    }

    /** Null when reserved; else what the full window counts, e.g. "this address". */
    public String refusedBy() {
      return refusedBy;
    }

    /** Gives the places back: the attempt succeeded, or told nothing about the password. */
    public Future<Void> release() {
      return AuthFailureWindows.this.release(slots, period);
    }
  }

  /**
   * What the address's windows (address and network) say before an exchange starts: null when
   * AUTH may go on, else what the full window counts. Reads only; {@link #reserve} decides.
   */
  public Future<String> blocked(AuthSettings settings, String host) {
    long now = clock.getAsLong();
    long period = settings.failuresWindow().toMillis();
    Future<String> verdict = Future.succeededFuture(null);
    for (Window w : windows(settings, host, null)) {
      verdict = verdict.compose(refused -> refused != null ? Future.succeededFuture(refused)
          : this.windows.read(w.key(), now, period).map(s -> s.rate(now, period) + 1 > w.limit() ? w.what() : null));
    }
    return verdict.otherwise(e -> {
      LOG.warn("AUTH failure windows unreadable, not throttling: {}", e.getMessage());
      return null;
    });
  }

  /**
   * Takes one place in each window that applies to this attempt (address, network, and user when
   * known), or none when one of them is full.
   *
   * @param user the user name the client gave, or null before it is known
   */
  public Future<Reservation> reserve(AuthSettings settings, String host, String user) {
    long now = clock.getAsLong();
    long period = settings.failuresWindow().toMillis();
    List<Slot> taken = new ArrayList<>();
    Future<String> refused = Future.succeededFuture(null);
    for (Window w : windows(settings, host, user)) {
      refused = refused.compose(r -> r != null ? Future.succeededFuture(r)
          : windows.update(w.key(), now, period, s -> s.rate(now, period) + 1 > w.limit() ? null : s.plus(1))
              .map(u -> {
                if (!u.stored()) {
                  return w.what();
                }
                taken.add(new Slot(w.key(), Math.floorDiv(now, period)));
                return null;
              }));
    }
    return refused.otherwise(e -> {
      LOG.warn("AUTH failure windows not writable, not throttling: {}", e.getMessage());
      return null;
    }).compose(r -> r == null ? Future.succeededFuture(new Reservation(taken, period, null))
        : release(taken, period).map(v -> new Reservation(List.of(), period, r)));
  }

  private Future<Void> release(List<Slot> slots, long period) {
    long now = clock.getAsLong();
    List<Future<?>> done = new ArrayList<>();
    for (Slot slot : slots) {
      done.add(windows.update(slot.key(), now, period, s -> s.withdraw(slot.bucket())));
    }
    return Future.join(done).<Void>mapEmpty().otherwise(e -> {
      LOG.warn("AUTH failure windows: a place could not be given back: {}", e.getMessage());
      return null;
    });
  }

  private static List<Window> windows(AuthSettings s, String host, String user) {
    List<Window> out = new ArrayList<>(3);
    if (host != null && !host.isEmpty()) {
      if (s.failuresPerHost() > 0) {
        out.add(new Window("host:" + host, s.failuresPerHost(), "this address"));
      }
      Cidr network = Cidr.around(host, IPV4_NETWORK_PREFIX, IPV6_NETWORK_PREFIX);
      if (s.failuresPerNetwork() > 0 && network != null) {
        out.add(new Window("net:" + network, s.failuresPerNetwork(), "the network " + network));
      }
    }
    if (user != null && !user.isEmpty() && s.failuresPerUser() > 0) {
      // Local parts are caseless in conf/passwd, so one account has one window.
      out.add(new Window("user:" + user.toLowerCase(Locale.ROOT), s.failuresPerUser(), "this user"));
    }
    return out;
  }
}
