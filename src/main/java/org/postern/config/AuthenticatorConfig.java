package org.postern.config;

import org.postern.expand.Expansion;

import java.util.List;

/**
 * One {@code authenticators:} entry, with Exim's option names.
 *
 * @param name             the entry's name, shown as {@code A=name:id} in the main log
 * @param driver           {@code plaintext}, {@code cram_md5} or {@code scram}
 * @param publicName       the SASL mechanism advertised: PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-256
 * @param serverPrompts    plaintext only: the prompts sent (LOGIN: "Username:", "Password:")
 * @param serverCondition  extra check after the credentials verified ($auth1..$auth3 set), or null
 * @param serverSetId      what becomes {@code $authenticated_id} (default: the user name), or null
 * @param advertiseCondition {@code server_advertise_condition}: offered only when true, or null
 */
public record AuthenticatorConfig(String name, String driver, String publicName, List<String> serverPrompts,
                                  Expansion serverCondition, Expansion serverSetId, Expansion advertiseCondition) {
}
