package org.postern.config;

import org.postern.expand.EximTime;

import java.time.Duration;

/**
 * {@code connection_error_log_rate}: at most {@code lines} main-log lines per client address and
 * {@code window}, written {@code 10 / 1m}; {@code 0} means no limit.
 */
public record LogRate(int lines, Duration window) {
  /** Every line written. */
  public static final LogRate UNLIMITED = new LogRate(0, Duration.ZERO);

  /** Parses {@code N / time} (Exim's time syntax) or {@code 0}. */
  public static LogRate parse(String text) {
    String t = text.strip();
    if (t.equals("0")) {
      return UNLIMITED;
    }
    int slash = t.indexOf('/');
    if (slash < 0) {
      throw new IllegalArgumentException("expected <lines> / <time>, e.g. 10 / 1m, or 0 for no limit, got \""
          + t + "\"");
    }
    int lines;
    try {
      lines = Integer.parseInt(t.substring(0, slash).strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("not a number of lines: \"" + t.substring(0, slash).strip() + "\"");
    }
    Duration window = EximTime.parse(t.substring(slash + 1));
    if (lines < 1 || window.isZero()) {
      throw new IllegalArgumentException("expected at least one line per non-zero time, got \"" + t + "\"");
    }
    return new LogRate(lines, window);
  }

  public boolean unlimited() {
    return lines == 0;
  }

  @Override
  public String toString() {
    return unlimited() ? "0" : lines + " / " + EximTime.format(window);
  }
}
