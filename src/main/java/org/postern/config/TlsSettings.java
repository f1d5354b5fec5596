package org.postern.config;

import org.postern.lists.HostList;
import org.postern.tls.TlsEngine;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * Server-side TLS options, with Exim's names.
 *
 * @param advertiseHosts     {@code tls_advertise_hosts}: who is offered STARTTLS
 * @param certificate        {@code tls_certificate} (PEM chain), null = self-signed in {@code directory}
 * @param privateKey         {@code tls_privatekey} (PEM), null = beside the generated certificate
 * @param verifyHosts        {@code tls_verify_hosts}: a verified client certificate is required
 * @param tryVerifyHosts     {@code tls_try_verify_hosts}: a client certificate is asked for and checked
 * @param verifyCertificates {@code tls_verify_certificates}: CA bundle for client certificates
 * @param cipherSuites       {@code tls_require_ciphers}, as JSSE names; empty = the JDK's defaults
 * @param protocols          {@code tls_protocols}, e.g. TLSv1.2 and TLSv1.3
 * @param onConnectPorts     {@code tls_on_connect_ports}: listeners on these ports speak TLS at once (RFC 8314)
 * @param directory          where the self-signed certificate is generated
 * @param handshakeTimeout   {@code tls_handshake_timeout}: a handshake not done by then is abandoned
 * @param handshakeMax       {@code tls_handshake_max}: TLS handshakes in progress at once per node, 0 = no limit
 * @param engine             {@code tls_engine} (Postern's own): BoringSSL, JSSE, or BoringSSL when it loads
 */
public record TlsSettings(HostList advertiseHosts, Path certificate, Path privateKey, HostList verifyHosts,
                          HostList tryVerifyHosts, Path verifyCertificates, List<String> cipherSuites,
                          List<String> protocols, Set<Integer> onConnectPorts, Path directory,
                          Duration handshakeTimeout, int handshakeMax, TlsEngine engine) {
}
