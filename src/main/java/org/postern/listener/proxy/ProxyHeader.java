package org.postern.listener.proxy;

import org.postern.bus.ProxySession;

import java.util.List;

/**
 * A decoded PROXY protocol header (HAProxy's proxy-protocol.txt, versions 1 and 2).
 *
 * @param version            1 (text) or 2 (binary)
 * @param sourceAddress      the real client's IP address, or null when the header carries none
 *                           ({@code PROXY UNKNOWN}, v2 {@code LOCAL} or {@code AF_UNSPEC}): the
 *                           connection's own TCP peer stands, as the specification requires
 * @param sourcePort         the client's port, 0 when {@code sourceAddress} is null
 * @param destinationAddress the address the client connected to on the proxy, or null with {@code sourceAddress}
 * @param destinationPort    that port, 0 when absent
 * @param tlvs               v2 type-length-value extensions, in order, each checked against the header's end
 */
public record ProxyHeader(int version, String sourceAddress, int sourcePort, String destinationAddress,
                          int destinationPort, List<Tlv> tlvs) {

  /** A v2 extension: {@code type} and its value bytes. */
  public record Tlv(int type, byte[] value) {
  }

  public ProxyHeader {
    tlvs = List.copyOf(tlvs);
  }

  /** A header that names no client (health checks, {@code UNKNOWN}): the TCP peer stays the client. */
  static ProxyHeader withoutAddresses(int version) {
    return new ProxyHeader(version, null, 0, null, 0, List.of());
  }

  /** True when the header names the real client. */
  public boolean hasAddresses() {
    return sourceAddress != null;
  }

  /** The client's address: the one named here, else the TCP peer's ({@code proxyAddress}). */
  public String clientAddress(String proxyAddress) {
    return hasAddresses() ? sourceAddress : proxyAddress;
  }

  /** The client's port: the one named here, else the TCP peer's ({@code proxyPort}). */
  public int clientPort(int proxyPort) {
    return hasAddresses() ? sourcePort : proxyPort;
  }

  /** The session's {@code $proxy_*} facts, for a header read from the proxy at {@code proxyAddress:proxyPort}. */
  public ProxySession session(String proxyAddress, int proxyPort) {
    return hasAddresses() ? new ProxySession(proxyAddress, proxyPort, destinationAddress, destinationPort)
        : ProxySession.ANONYMOUS;
  }
}
