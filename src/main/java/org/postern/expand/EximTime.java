package org.postern.expand;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Exim's time syntax, as in retry rules and ratelimit periods: {@code 15m}, {@code 2h},
 * {@code 4d}, {@code 1w}, combinations such as {@code 1d12h}, or a plain number of seconds.
 */
public final class EximTime {
  private static final Pattern PART = Pattern.compile("(\\d+)([wdhms])");

  private EximTime() {
  }

  /** Parses one time; throws {@link IllegalArgumentException} with a reason fit for a config error. */
  public static Duration parse(String text) {
    String t = text.trim();
    try {
      if (t.matches("\\d+")) {
        return Duration.ofSeconds(Long.parseLong(t));
      }
      Matcher m = PART.matcher(t);
      long seconds = 0;
      int end = 0;
      while (m.find() && m.start() == end) {
        long n = Long.parseLong(m.group(1));
        long unit = switch (m.group(2)) {
          case "w" -> 7 * 86_400L;
          case "d" -> 86_400L;
          case "h" -> 3_600L;
          case "m" -> 60L;
          default -> 1L;
        };
        seconds = Math.addExact(seconds, Math.multiplyExact(n, unit));
        end = m.end();
      }
      if (t.isEmpty() || end != t.length()) {
        throw new IllegalArgumentException("not a time: \"" + text.trim() + "\" (use e.g. 15m, 2h, 4d, 1w, 1d12h)");
      }
      return Duration.ofSeconds(seconds);
    } catch (NumberFormatException | ArithmeticException e) {
      throw new IllegalArgumentException("time too large: \"" + text.trim() + "\"");
    }
  }

  /** Exim's compact rendering, e.g. {@code 1d12h}, {@code 15m}, {@code 0s}. */
  public static String format(Duration d) {
    long s = d.getSeconds();
    if (s == 0) {
      return "0s";
    }
    StringBuilder sb = new StringBuilder();
    long[] units = {7 * 86_400L, 86_400L, 3_600L, 60L, 1L};
    String[] names = {"w", "d", "h", "m", "s"};
    for (int i = 0; i < units.length; i++) {
      if (s >= units[i]) {
        sb.append(s / units[i]).append(names[i]);
        s %= units[i];
      }
    }
    return sb.toString();
  }
}
