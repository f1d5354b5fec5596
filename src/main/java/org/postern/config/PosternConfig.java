package org.postern.config;

import org.postern.acl.Acl;
import org.postern.bus.AclStage;
import org.postern.acl.DomainList;
import org.postern.acl.HostList;
import org.postern.dns.DnsSettings;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * One immutable, validated configuration generation. Verticles read the current one from
 * {@link ConfigHolder}; a session keeps the generation it started with.
 *
 * @param generation short hash of every file's content, logged so operators can see nodes converge
 */
public record PosternConfig(
    String generation,
    Path configFile,
    String primaryHostname,
    String smtpBanner,
    List<ListenerConfig> listeners,
    Path spoolDirectory,
    Path maildirDirectory,
    Path logDirectory,
    DomainList localDomains,
    HostList relayFromHosts,
    Map<String, HostList> hostLists,
    Map<String, DomainList> domainLists,
    long messageSizeLimit,
    int recipientsMax,
    int smtpMaxUnknownCommands,
    int smtpMaxSynprotErrors,
    int commandLineMax,
    Duration smtpReceiveTimeout,
    int smtpAcceptMax,
    int smtpAcceptMaxPerHost,
    boolean smtpEnforceSync,
    BareLineEnds bareLineEnds,
    boolean queueOnly,
    Duration aclPluginTimeout,
    Map<AclStage, String> aclStages,
    Map<String, Acl> acls,
    LocalUsers users,
    TlsSettings tls,
    AuthSettings auth,
    DnsSettings dns,
    Map<String, org.postern.acl.AddressList> addressLists,
    Map<String, org.postern.acl.LocalPartList> localPartLists,
    Map<Path, String> listFiles,
    DeliverySettings delivery) {

  /** The name of the ACL for a stage ({@code acl_smtp_<stage>}), or null when the stage has none. */
  public String aclForStage(AclStage stage) {
    return aclStages.get(stage);
  }
}
