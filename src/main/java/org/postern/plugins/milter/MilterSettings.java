package org.postern.plugins.milter;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.postern.expand.EximTime;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The milter plugin's options, from its {@code verticles.json} entry's {@code config}: the
 * {@code milters} list (Postfix's {@code smtpd_milters}), asked in order, each {@code inet:host:port}
 * or an object with that {@code address} and its own timeouts and default action. Top-level
 * {@code connect_timeout}, {@code command_timeout}, {@code content_timeout} and
 * {@code default_action} are the defaults, Postfix's {@code milter_*} ones. A bad value stops the
 * verticle from starting, naming the option.
 */
record MilterSettings(List<Milter> milters) {

  /** What a session gets when a milter is down, times out or breaks the protocol (Postfix's {@code milter_default_action}). */
  enum DefaultAction {
    /** Go on as if the milter were not there. */
    ACCEPT,
    /** 451 4.7.1 at MAIL, RCPT and the end of DATA. */
    TEMPFAIL,
    /** 550 5.7.1 at MAIL, RCPT and the end of DATA. */
    REJECT
  }

  /**
   * One milter.
   *
   * @param name           the address as configured, for logs
   * @param connectTimeout for the TCP connection and the option negotiation
   * @param commandTimeout for the answer to connect, HELO, MAIL, RCPT, DATA
   * @param contentTimeout for the answer to a header, the body chunks and the end of message
   */
  record Milter(String name, String host, int port, Duration connectTimeout, Duration commandTimeout,
                Duration contentTimeout, DefaultAction defaultAction) {
  }

  static MilterSettings from(JsonObject config) {
    Object list = config.getValue("milters");
    if (!(list instanceof JsonArray array) || array.isEmpty()) {
      throw new IllegalArgumentException("milter: milters: a list of at least one inet:host:port is required");
    }
    Duration connect = time(config, "connect_timeout", "30s", "milter");
    Duration command = time(config, "command_timeout", "30s", "milter");
    Duration content = time(config, "content_timeout", "300s", "milter");
    DefaultAction action = action(config, "tempfail", "milter");
    List<Milter> milters = new ArrayList<>();
    for (int i = 0; i < array.size(); i++) {
      Object item = array.getValue(i);
      String where = "milter: milters[" + i + "]";
      JsonObject one = item instanceof String s ? new JsonObject().put("address", s)
          : item instanceof JsonObject o ? o : null;
      if (one == null || one.getString("address") == null) {
        throw new IllegalArgumentException(where + ": must be inet:host:port or {address: inet:host:port, ...}");
      }
      String address = one.getString("address");
      String[] hostPort = address(address, where);
      milters.add(new Milter(address, hostPort[0], Integer.parseInt(hostPort[1]),
          one.containsKey("connect_timeout") ? time(one, "connect_timeout", null, where) : connect,
          one.containsKey("command_timeout") ? time(one, "command_timeout", null, where) : command,
          one.containsKey("content_timeout") ? time(one, "content_timeout", null, where) : content,
          one.containsKey("default_action") ? action(one, null, where) : action));
    }
    return new MilterSettings(List.copyOf(milters));
  }

  /** {@code inet:host:port}, {@code inet:[v6]:port}; Postfix's {@code unix:} sockets are not supported. */
  private static String[] address(String address, String where) {
    String a = address.strip();
    if (!a.startsWith("inet:")) {
      throw new IllegalArgumentException(where + ": address: only inet:host:port is supported, not " + address);
    }
    a = a.substring(5);
    int colon = a.lastIndexOf(':');
    String host = colon < 0 ? "" : a.substring(0, colon);
    String port = colon < 0 ? "" : a.substring(colon + 1);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    if (host.isEmpty() || !port.matches("\\d{1,5}") || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535) {
      throw new IllegalArgumentException(where + ": address: not inet:host:port: " + address);
    }
    return new String[] {host, port};
  }

  private static Duration time(JsonObject config, String name, String fallback, String where) {
    String value = String.valueOf(config.getValue(name, fallback)).strip();
    try {
      // Exim's times, and milliseconds as postern.yaml allows them (a test's short timeouts).
      Duration d = value.matches("\\d{1,9}ms") ? Duration.ofMillis(Long.parseLong(value.substring(0, value.length() - 2)))
          : EximTime.parse(value);
      if (d.isZero()) {
        throw new IllegalArgumentException("must be longer than 0s");
      }
      return d;
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(where + ": " + name + ": " + e.getMessage(), e);
    }
  }

  private static DefaultAction action(JsonObject config, String fallback, String where) {
    String value = String.valueOf(config.getValue("default_action", fallback));
    try {
      return DefaultAction.valueOf(value.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(where + ": default_action: accept, tempfail or reject, not " + value, e);
    }
  }

  /**
   * How long a session waits for the plugin at one hook before it applies the default action
   * itself: longer than every milter's own deadlines, which answer first.
   */
  long sessionTimeoutMillis() {
    long sum = 10_000;
    for (Milter m : milters) {
      sum += m.connectTimeout().toMillis() + 2 * m.commandTimeout().toMillis() + 3 * m.contentTimeout().toMillis();
    }
    return sum;
  }

  /** The strictest default action: what a session applies when the plugin itself does not answer. */
  DefaultAction strictest() {
    DefaultAction worst = DefaultAction.ACCEPT;
    for (Milter m : milters) {
      if (m.defaultAction().ordinal() > worst.ordinal()) {
        worst = m.defaultAction();
      }
    }
    return worst;
  }
}
