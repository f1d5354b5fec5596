package org.postern.auth;

import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postern.config.AuthSettings;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The failure windows against a clock the test moves (no sleeps): a real sliding window of
 * {@code auth_failures_window}, places given back, and the three keys (address, network, user).
 */
class AuthFailureWindowsTest {
  private static final Duration WINDOW = Duration.ofMinutes(10);
  /** The start of a window-aligned bucket, so that the arithmetic below is exact. */
  private static final long T0 = 2_000_000L * WINDOW.toMillis();

  private Vertx vertx;
  private final AtomicLong now = new AtomicLong(T0);
  private AuthFailureWindows windows;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    windows = new AuthFailureWindows(vertx, now::get);
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static AuthSettings settings(int perHost, int perNetwork, int perUser) {
    return new AuthSettings(null, List.of(), 3, Duration.ZERO, perHost, perNetwork, perUser, WINDOW, null);
  }

  private static <T> T await(io.vertx.core.Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private String reserve(AuthSettings s, String host, String user) throws Exception {
    return await(windows.reserve(s, host, user)).refusedBy();
  }

  private void minutes(long m) {
    now.addAndGet(TimeUnit.MINUTES.toMillis(m));
  }

  @Test
  void failuresNineMinutesApartNeverAddUpToTheLimit() throws Exception {
    // The old counter restarted its 10-minute TTL at every failure: one failure every 9 minutes
    // reached any limit and then refused the address for ever.
    AuthSettings s = settings(3, 0, 0);
    for (int i = 0; i < 12; i++) {
      assertNull(reserve(s, "192.0.2.7", null), "failure " + (i + 1) + " at minute " + 9 * i);
      minutes(9);
    }
  }

  @Test
  void theWindowForgetsOldFailures() throws Exception {
    AuthSettings s = settings(3, 0, 0);
    for (int i = 0; i < 3; i++) {
      assertNull(reserve(s, "192.0.2.7", null));
    }
    assertEquals("this address", reserve(s, "192.0.2.7", null));
    assertEquals("this address", await(windows.blocked(s, "192.0.2.7")));
    minutes(9);
    // Still inside the window.
    assertEquals("this address", await(windows.blocked(s, "192.0.2.7")));
    minutes(6);
    // 15 minutes on, the three failures weigh half: one more fits, two do not.
    assertNull(await(windows.blocked(s, "192.0.2.7")));
    assertNull(reserve(s, "192.0.2.7", null));
    assertEquals("this address", reserve(s, "192.0.2.7", null));
    minutes(20);
    // Two windows on, everything has gone.
    for (int i = 0; i < 3; i++) {
      assertNull(reserve(s, "192.0.2.7", null));
    }
  }

  @Test
  void releasedPlacesAreFreeAgainAndRefusalsTakeNone() throws Exception {
    AuthSettings s = settings(2, 0, 2);
    AuthFailureWindows.Reservation first = await(windows.reserve(s, "192.0.2.7", "alice"));
    assertNull(first.refusedBy());
    assertNull(reserve(s, "192.0.2.8", "alice"));
    // alice's window is full; the refusal did not take a place in 192.0.2.9's window.
    assertEquals("this user", reserve(s, "192.0.2.9", "ALICE"));
    assertNull(reserve(s, "192.0.2.9", "bob"));
    assertNull(reserve(s, "192.0.2.9", "bob"));
    // A success gives its place back, in every window it took one in.
    await(first.release());
    assertNull(reserve(s, "192.0.2.7", "alice"));
    minutes(15);
    // A place given back after its bucket moved back is taken from the previous bucket.
    AuthFailureWindows.Reservation late = await(windows.reserve(s, "192.0.2.20", "carol"));
    minutes(10);
    await(late.release());
    assertNull(reserve(s, "192.0.2.20", "carol"));
    assertNull(reserve(s, "192.0.2.20", "carol"));
  }

  @Test
  void theNetworkWindowCoversAnIpv4Slash24AndAnIpv6Slash64() throws Exception {
    AuthSettings s = settings(0, 2, 0);
    assertNull(reserve(s, "198.51.100.1", null));
    assertNull(reserve(s, "198.51.100.254", null));
    assertEquals("the network 198.51.100.0/24", reserve(s, "198.51.100.77", null));
    assertNull(reserve(s, "198.51.101.1", null));
    assertNull(reserve(s, "2001:db8:1:2::1", null));
    assertNull(reserve(s, "2001:db8:1:2:ffff::9", null));
    assertEquals("the network 2001:db8:1:2:0:0:0:0/64", reserve(s, "2001:db8:1:2:abcd::1", null));
    assertNull(reserve(s, "2001:db8:1:3::1", null));
    // An IPv4-mapped IPv6 address is its IPv4 address.
    assertEquals("the network 198.51.100.0/24", reserve(s, "::ffff:198.51.100.9", null));
  }

  @Test
  void zeroLimitsAndMissingAddressesThrottleNothing() throws Exception {
    AuthSettings off = settings(0, 0, 0);
    AuthSettings on = settings(1, 1, 1);
    for (int i = 0; i < 5; i++) {
      assertNull(reserve(off, "192.0.2.7", "alice"));
      // -bs sessions have no address: only the user window applies, and the user is unknown here.
      assertNull(reserve(on, "", null));
    }
  }
}
