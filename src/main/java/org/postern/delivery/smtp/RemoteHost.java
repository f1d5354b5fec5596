package org.postern.delivery.smtp;

/**
 * A remote SMTP server as a router found it.
 *
 * @param name    host name (matched against host lists and certificate names), or null when only the address is known
 * @param address IP address connected to
 * @param port    TCP port
 */
public record RemoteHost(String name, String address, int port) {
  /** The host's name, or its address when it has none (a host given as an IP address, as Exim names it). */
  public String nameOrAddress() {
    return name == null ? address : name;
  }

  /** {@code H=name [address]} as Exim logs it. */
  @Override
  public String toString() {
    return (name == null ? "" : name + " ") + "[" + address + "]" + (port == 25 ? "" : ":" + port);
  }
}
