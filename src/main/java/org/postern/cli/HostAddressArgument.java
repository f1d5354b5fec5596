package org.postern.cli;

import org.postern.net.IpAddresses;

/**
 * An IP address on the command line with an optional port written Exim's way, after a final dot:
 * {@code 192.0.2.1}, {@code 192.0.2.1.1234}, {@code 2001:db8::1.25}.
 *
 * @param address the IP address
 * @param port    the port, or {@code defaultPort} when none was given
 */
record HostAddressArgument(String address, int port) {

  /** @throws IllegalArgumentException when the text is not an IP address with an optional port */
  static HostAddressArgument parse(String text, int defaultPort) {
    if (IpAddresses.isIpAddress(text)) {
      return new HostAddressArgument(text, defaultPort);
    }
    int dot = text.lastIndexOf('.');
    if (dot > 0 && IpAddresses.isIpAddress(text.substring(0, dot)) && text.substring(dot + 1).matches("\\d{1,5}")) {
      int port = Integer.parseInt(text.substring(dot + 1));
      if (port <= 65535) {
        return new HostAddressArgument(text.substring(0, dot), port);
      }
    }
    throw new IllegalArgumentException("not an IP address (with an optional .port): \"" + text + "\"");
  }
}
