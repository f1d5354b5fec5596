package org.postern.dns;

import org.postern.net.IpAddresses;

/**
 * One name server to ask: an IP address and a UDP port. Written in {@code dns_servers} as
 * {@code 192.0.2.53}, {@code 192.0.2.53:5353}, {@code ::1} or {@code [::1]:5353}.
 */
public record DnsServerAddress(String host, int port) {
  public static final int DNS_PORT = 53;

  public DnsServerAddress {
    if (!IpAddresses.isIpAddress(host)) {
      throw new IllegalArgumentException("not an IP address: \"" + host + "\"");
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port out of range: " + port);
    }
  }

  /** Parses one {@code dns_servers} item; IllegalArgumentException says what is wrong with it. */
  public static DnsServerAddress parse(String text) {
    String t = text.strip();
    if (t.startsWith("[")) {
      int close = t.indexOf(']');
      if (close < 0) {
        throw new IllegalArgumentException("missing ] in \"" + text + "\"");
      }
      String host = t.substring(1, close);
      String rest = t.substring(close + 1);
      if (rest.isEmpty()) {
        return new DnsServerAddress(host, DNS_PORT);
      }
      if (!rest.startsWith(":")) {
        throw new IllegalArgumentException("expected [address]:port, got \"" + text + "\"");
      }
      return new DnsServerAddress(host, port(rest.substring(1), text));
    }
    int colon = t.indexOf(':');
    // A bare IPv6 address has several colons and no port; host:port has exactly one.
    if (colon >= 0 && colon == t.lastIndexOf(':')) {
      return new DnsServerAddress(t.substring(0, colon), port(t.substring(colon + 1), text));
    }
    if (t.isEmpty()) {
      throw new IllegalArgumentException("empty name server");
    }
    return new DnsServerAddress(t, DNS_PORT);
  }

  private static int port(String digits, String text) {
    if (!digits.matches("\\d{1,5}")) {
      throw new IllegalArgumentException("not a port in \"" + text + "\"");
    }
    return Integer.parseInt(digits);
  }

  @Override
  public String toString() {
    return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
  }
}
