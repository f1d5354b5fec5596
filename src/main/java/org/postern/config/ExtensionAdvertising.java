package org.postern.config;

import org.postern.lists.HostList;

/**
 * Which clients are offered the SMTPUTF8 (RFC 6531) and REQUIRETLS (RFC 8689) extensions.
 *
 * @param smtpUtf8Hosts   Exim's {@code smtputf8_advertise_hosts} (default {@code *})
 * @param requireTlsHosts {@code requiretls_advertise_hosts} (default {@code *}); REQUIRETLS is only
 *                        ever offered inside TLS, whatever this list says
 */
public record ExtensionAdvertising(HostList smtpUtf8Hosts, HostList requireTlsHosts) {
}
