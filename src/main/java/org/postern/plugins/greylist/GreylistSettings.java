package org.postern.plugins.greylist;

import io.vertx.core.json.JsonObject;
import org.postern.expand.EximTime;

import java.time.Duration;

/**
 * The greylisting plugin's options, from its {@code verticles.json} entry's {@code config}, with
 * postgrey's defaults. A bad value stops the verticle from starting, naming the option.
 *
 * @param delay          how long a new triplet is refused (postgrey {@code --delay}, 5m)
 * @param retryWindow    how long an unconfirmed triplet waits for its retry (postgrey's
 *                       {@code --retry-window}, 2d); a retry after it starts again
 * @param passPeriod     how long a confirmed triplet, or a pass-listed client, stays passed since it
 *                       was last seen (postgrey {@code --max-age}, 35d)
 * @param autoPassClients after this many confirmed triplets a client network passes for any
 *                       sender and recipient (postgrey {@code --auto-whitelist-clients}, 5); 0 turns it off
 * @param ipv4Prefix     bits of an IPv4 client address that name its network (24)
 * @param ipv6Prefix     bits of an IPv6 client address that name its network (64)
 */
public record GreylistSettings(Duration delay, Duration retryWindow, Duration passPeriod, int autoPassClients,
                               int ipv4Prefix, int ipv6Prefix) {

  /** Reads the options; throws {@link IllegalArgumentException} naming the bad one. */
  public static GreylistSettings from(JsonObject config) {
    GreylistSettings s = new GreylistSettings(time(config, "delay", "5m"), time(config, "retry_window", "2d"),
        time(config, "pass_period", "35d"), number(config, "auto_pass_clients", 5, 0, Integer.MAX_VALUE),
        number(config, "ipv4_prefix", 24, 0, 32), number(config, "ipv6_prefix", 64, 0, 128));
    if (s.retryWindow.compareTo(s.delay) <= 0) {
      throw new IllegalArgumentException("greylist: retry_window (" + EximTime.format(s.retryWindow)
          + ") must be longer than delay (" + EximTime.format(s.delay) + ")");
    }
    if (s.passPeriod.isZero()) {
      throw new IllegalArgumentException("greylist: pass_period must be longer than 0s");
    }
    return s;
  }

  private static Duration time(JsonObject config, String name, String fallback) {
    Object value = config.getValue(name, fallback);
    try {
      return EximTime.parse(String.valueOf(value));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("greylist: " + name + ": " + e.getMessage(), e);
    }
  }

  private static int number(JsonObject config, String name, int fallback, int min, int max) {
    Object value = config.getValue(name, fallback);
    if (!(value instanceof Number n) || n.intValue() != n.doubleValue() || n.intValue() < min || n.intValue() > max) {
      throw new IllegalArgumentException("greylist: " + name + ": must be a whole number from " + min + " to " + max
          + ", not " + value);
    }
    return n.intValue();
  }
}
