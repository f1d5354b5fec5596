package org.postern.config;

import org.postern.net.IpAddresses;

/**
 * One listening socket: {@code listeners: { smtp: { address: 127.0.0.1, port: 2525 } }}. The name
 * is visible to ACLs as {@code $received_listener}; the port as {@code $received_port}.
 */
public record ListenerConfig(String name, String address, int port) {
  /** {@code { address, port }}: an IP address or {@code *} (every IPv4 address, 127.0.0.1 when absent), a port. */
  static ListenerConfig parse(String name, YamlSection l) throws ConfigException {
    String address = l.string("address", "127.0.0.1");
    if (!address.equals("*") && !IpAddresses.isIpAddress(address)) {
      throw l.error("address", "expected an IP address or *, got \"" + address + "\"");
    }
    int port = l.integer("port", -1, 0, 65535);
    if (port < 0) {
      throw l.error("port", "missing port");
    }
    l.rejectUnknown();
    return new ListenerConfig(name, address.equals("*") ? "0.0.0.0" : address, port);
  }
}
