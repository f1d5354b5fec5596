package org.postern.config;

import org.postern.dns.DnsSettings;
import org.postern.lists.DomainList;
import org.postern.lists.HostList;
import org.postern.policy.Acl;
import org.postern.policy.AclSettings;

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
    Map<String, String> aclStages,
    Map<String, Acl> acls,
    LocalUsers users,
    TlsSettings tls,
    AuthSettings auth,
    DnsSettings dns,
    Map<String, org.postern.lists.AddressList> addressLists,
    Map<String, org.postern.lists.LocalPartList> localPartLists,
    Map<Path, String> listFiles,
    DeliverySettings delivery) implements AclSettings {

  /** SMTP stages that may name an ACL with {@code acl_smtp_<stage>}. */
  public static final List<String> STAGES = List.of("connect", "helo", "mail", "rcpt", "predata", "mime", "data",
      "vrfy", "expn", "etrn", "quit", "notquit", "starttls", "auth");

  @Override
  public String aclForStage(String stage) {
    return aclStages.get(stage);
  }

  @Override
  public boolean localPartExists(String localPart) {
    return users.exists(localPart);
  }
}
