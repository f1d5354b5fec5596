package org.postern.policy;

import org.postern.bus.AclStage;
import org.postern.dns.DnsSettings;
import org.postern.lists.DomainList;

import java.time.Duration;
import java.util.Map;

/**
 * What ACL evaluation reads from the configuration in force. The configuration generation
 * ({@code config.PosternConfig}) is one; evaluation sees it through this interface because config
 * parses acl.yaml into this package's rules and conditions, so this package cannot import config.
 */
public interface AclSettings {
  /** The name of the ACL for a stage, or null when the stage has none. */
  String aclForStage(AclStage stage);

  /** Every ACL of acl.yaml by name, for the stages and for {@code acl = name}. */
  Map<String, Acl> acls();

  /** {@code local_domains}: where {@code verify = recipient|sender} looks up local parts. */
  DomainList localDomains();

  /** True when mail for this local part of a local domain can be accepted: a mailbox or an alias. */
  boolean localPartExists(String localPart);

  /** The name servers {@code dnslists} and {@code verify = helo|sender} ask. */
  DnsSettings dns();

  /** How long a {@code plugin} condition waits for its verticle's answer ({@code acl_plugin_timeout}). */
  Duration aclPluginTimeout();

  /**
   * How long {@code plugin: name} waits: {@code acl_plugin_timeouts.name} when set, else
   * {@link #aclPluginTimeout()}.
   */
  default Duration pluginTimeout(String name) {
    return aclPluginTimeout();
  }
}
