package org.postern.config;

import org.postern.bus.AclStage;
import org.postern.dns.DnsSettings;
import org.postern.lists.DomainList;
import org.postern.log.LogRotation;
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
 * @param smtpReceiveTimeout Exim's {@code smtp_receive_timeout}: each command line and each data line
 *                           must arrive within it
 * @param smtpDataTimeout    {@code smtp_data_timeout} (a Postern option): the whole DATA content, and
 *                           each BDAT chunk, must arrive within it
 * @param chunkingAdvertiseHosts {@code chunking_advertise_hosts}: the hosts offered CHUNKING (RFC 3030)
 * @param storage            {@code check_spool_space}, {@code check_log_space} and their inode twins
 * @param aclPluginTimeouts  {@code acl_plugin_timeouts}: per plugin name, how long its condition waits
 * @param logRotation        {@code log_rotate_size} and {@code log_keep_days}: how the daemon cuts its logs
 * @param admin              {@code admin_listener} and {@code admin_token_file}: the admin HTTP API
 * @param pluginDirectory    {@code plugin_directory}: where plugin jars are loaded from ({@code ../plugins}
 *                           from the configuration file's directory, so {@code plugins/} beside {@code conf/})
 * @param connectionErrorLogRate {@code connection_error_log_rate}: main-log lines per client address about
 *                               failed handshakes and refused connections
 * @param proxy              {@code hosts_proxy} and {@code proxy_protocol_timeout}
 * @param cluster          the {@code cluster:} section; null when not clustered
 * @param localhostNumber  Exim's {@code localhost_number}, which goes into message ids; null when unset
 * @param sources          the replicated files' texts as parsed (main file, acl.yaml, passwd, aliases),
 *                         with {@code listFiles} what a configuration generation is made of
 * @param nodeSettings     node.yaml's text ("" without one): node-local, not part of {@code generation}
 * @param dsnAdvertiseHosts {@code dsn_advertise_hosts}: the hosts offered DSN (RFC 3461) in EHLO
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
    LogRate connectionErrorLogRate,
    boolean smtpEnforceSync,
    BareLineEnds bareLineEnds,
    HostList chunkingAdvertiseHosts,
    boolean queueOnly,
    Duration aclPluginTimeout,
    Map<String, Duration> aclPluginTimeouts,
    Map<AclStage, String> aclStages,
    Map<String, Acl> acls,
    LocalUsers users,
    TlsSettings tls,
    AuthSettings auth,
    DnsSettings dns,
    Map<String, org.postern.lists.AddressList> addressLists,
    Map<String, org.postern.lists.LocalPartList> localPartLists,
    Map<Path, String> listFiles,
    DeliverySettings delivery,
    Duration smtpDataTimeout,
    StorageChecks storage,
    LogRotation logRotation,
    ProxySettings proxy,
    AdminSettings admin,
    Path pluginDirectory,
    ClusterSettings cluster,
    Integer localhostNumber,
    Map<Path, String> sources,
    String nodeSettings,
    HostList dsnAdvertiseHosts) implements AclSettings {

  @Override
  public String aclForStage(AclStage stage) {
    return aclStages.get(stage);
  }

  @Override
  public Duration pluginTimeout(String name) {
    return aclPluginTimeouts.getOrDefault(name, aclPluginTimeout);
  }

  @Override
  public boolean localPartExists(String localPart) {
    return users.exists(localPart);
  }
}
