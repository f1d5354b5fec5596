package org.postern.config;

import org.postern.lists.HostList;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * SMTP AUTH options.
 *
 * @param advertiseHosts     {@code auth_advertise_hosts} when set: AUTH is offered to these hosts even
 *                           without TLS. Null (the default) means: after TLS, or in clear only to
 *                           {@code relay_from_hosts}, so passwords never cross the network in clear.
 * @param maxFailures        {@code smtp_max_auth_failures}: the connection is dropped after this many
 * @param failureDelay       the delay before a 535, doubled after each failure in a session
 * @param failuresPerHost    failures per client address within {@code failuresWindow} before AUTH
 *                           is refused with 454 for a while (0 = no limit)
 * @param propertiesFile     {@code auth_provider: properties:<file>}: PLAIN and LOGIN check passwords
 *                           with Vert.x Auth's properties provider instead of {@code conf/passwd}; null = passwd
 */
public record AuthSettings(HostList advertiseHosts, List<AuthenticatorConfig> authenticators, int maxFailures,
                           Duration failureDelay, int failuresPerHost, Duration failuresWindow,
                           Path propertiesFile) {

  /** The authenticator advertised under this SASL name, or null. */
  public AuthenticatorConfig mechanism(String publicName) {
    for (AuthenticatorConfig a : authenticators) {
      if (a.publicName().equalsIgnoreCase(publicName)) {
        return a;
      }
    }
    return null;
  }
}
