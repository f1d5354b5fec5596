package org.postern.config;

import org.postern.lists.HostList;

import java.time.Duration;

/**
 * Inbound PROXY protocol (Exim's "Proxies" chapter): load balancers that pass on the real client.
 *
 * @param hosts   {@code hosts_proxy}: connections from these TCP peers must start with a PROXY v1 or v2
 *                header; from anyone else a PROXY line is an ordinary (unknown) command
 * @param timeout {@code proxy_protocol_timeout}: the header must be complete within it, or the
 *                connection is dropped
 */
public record ProxySettings(HostList hosts, Duration timeout) {

  /** True when a connection from this TCP peer must begin with a PROXY header. */
  public boolean required(String peerAddress) {
    return hosts.matches(peerAddress, null);
  }
}
