package org.postern.config;

import org.postern.expand.Expansion;

import java.time.Duration;
import java.util.List;

/**
 * One {@code authenticators:} entry, with Exim's option names.
 *
 * @param name             the entry's name, shown as {@code A=name:id} in the main log
 * @param driver           {@code plaintext}, {@code cram_md5}, {@code scram} or {@code plugin}
 * @param publicName       the SASL mechanism advertised: PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-256; any
 *                         mechanism name for a plugin (XOAUTH2, OAUTHBEARER, ...)
 * @param serverPrompts    plaintext only: the prompts sent (LOGIN: "Username:", "Password:")
 * @param serverCondition  extra check after the credentials verified ($auth1..$auth3 set), or null
 * @param serverSetId      what becomes {@code $authenticated_id} (default: the user name), or null
 * @param advertiseCondition {@code server_advertise_condition}: offered only when true, or null
 * @param address          {@code driver: plugin}: the bus address its plugin consumes; null otherwise
 * @param timeout          {@code driver: plugin}: how long one step of the exchange may take; null otherwise
 */
public record AuthenticatorConfig(String name, String driver, String publicName, List<String> serverPrompts,
                                  Expansion serverCondition, Expansion serverSetId, Expansion advertiseCondition,
                                  String address, Duration timeout) {
  /** The driver served by a plugin over the bus. */
  public static final String PLUGIN = "plugin";

  /** A built-in driver's authenticator: no address, no timeout. */
  public AuthenticatorConfig(String name, String driver, String publicName, List<String> serverPrompts,
                             Expansion serverCondition, Expansion serverSetId, Expansion advertiseCondition) {
    this(name, driver, publicName, serverPrompts, serverCondition, serverSetId, advertiseCondition, null, null);
  }

  /** True when a plugin serves it ({@code driver: plugin}). */
  public boolean plugin() {
    return PLUGIN.equals(driver);
  }
}
