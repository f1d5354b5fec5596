package org.postern.listener;

import org.junit.jupiter.api.Test;
import org.postern.config.LogRate;
import org.postern.testing.SettableClock;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code connection_error_log_rate}: the first lines per client address and window, then one summary. */
class ConnectionErrorLogTest {
  private final SettableClock clock = new SettableClock(Instant.parse("2026-12-06T22:00:00Z"));
  private final List<String> written = new ArrayList<>();
  private final ConnectionErrorLog log = new ConnectionErrorLog(clock, written::add);
  private final LogRate rate = LogRate.parse("10 / 1m");

  @Test
  void aHostGetsTenLinesAMinuteThenOneNoticeAndASummaryWithTheCount() {
    for (int i = 0; i < 25; i++) {
      log.write("192.0.2.1", "failure " + i, rate);
    }
    log.write("192.0.2.2", "other host", rate);
    assertEquals(12, written.size(), written.toString());
    assertEquals("failure 9", written.get(9));
    assertEquals("Connection errors from [192.0.2.1]: further lines not logged until 2026-12-06T22:01:00Z"
        + " (connection_error_log_rate=10 / 1m)", written.get(10));
    assertEquals("other host", written.get(11));

    clock.advance(Duration.ofSeconds(59));
    log.flush();
    assertEquals(12, written.size(), "the window is not over yet: " + written);
    clock.advance(Duration.ofSeconds(1));
    log.flush();
    assertEquals(List.of("Connection errors from [192.0.2.1]: 15 more not logged between 2026-12-06T22:00:00Z and"
        + " 2026-12-06T22:01:00Z (connection_error_log_rate=10 / 1m)"), written.subList(12, written.size()),
        "one summary, none for the host that stayed under the limit");

    log.write("192.0.2.1", "next window", rate);
    assertEquals("next window", written.get(written.size() - 1));
  }

  @Test
  void aWindowThatEndsWithoutAFlushIsSummarisedBeforeTheNextLine() {
    for (int i = 0; i < 12; i++) {
      log.write("192.0.2.1", "failure " + i, rate);
    }
    clock.advance(Duration.ofMinutes(2));
    log.write("192.0.2.1", "later", rate);
    assertTrue(written.get(written.size() - 2).contains(": 2 more not logged"), written.toString());
    assertEquals("later", written.get(written.size() - 1));
  }

  @Test
  void zeroWritesEveryLine() {
    for (int i = 0; i < 100; i++) {
      log.write("192.0.2.1", "failure " + i, LogRate.parse("0"));
    }
    assertEquals(100, written.size());
  }

  @Test
  void badRatesAreRefused() {
    for (String bad : new String[] {"10", "ten / 1m", "10 / soon", "0 / 1m", "10 / 0s", ""}) {
      assertThrows(IllegalArgumentException.class, () -> LogRate.parse(bad), bad);
    }
    assertEquals(new LogRate(5, Duration.ofSeconds(30)), LogRate.parse(" 5/30s "));
  }
}
