package org.postern.config;

import org.postern.dns.DnsServerAddress;
import org.postern.bus.AclStage;
import org.postern.bus.Addresses;
import org.postern.dns.DnsSettings;
import org.postern.expand.VariableNames;
import org.postern.log.LogRotation;
import org.postern.lists.AddressList;
import org.postern.lists.DomainList;
import org.postern.lists.HostList;
import org.postern.lists.ListFiles;
import org.postern.lists.LocalPartList;
import org.postern.policy.Acl;
import org.postern.policy.AclLists;
import org.postern.tls.TlsEngine;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses and validates a whole configuration: {@code postern.yaml} and, beside it, {@code acl.yaml},
 * {@code passwd} and {@code aliases}. Either everything is valid and one {@link PosternConfig}
 * comes out, or a {@link ConfigException} names the first mistake; nothing half-applied.
 */
public final class ConfigLoader {
  public static final String ACL_FILE = "acl.yaml";
  public static final String PASSWD_FILE = "passwd";
  public static final String ALIASES_FILE = "aliases";
  /** Node-local settings beside postern.yaml, read after it and overriding it; never replicated. */
  public static final String NODE_FILE = "node.yaml";
  /**
   * What a node may set in node.yaml: what must differ between nodes (sockets, directories, name,
   * certificate paths, the message-id number, its own cluster address). Everything else is the
   * cluster's configuration.
   */
  public static final java.util.Set<String> NODE_OPTIONS = java.util.Set.of("listeners", "tls_on_connect_ports",
      "spool_directory", "maildir_directory", "log_directory", "tls_directory", "primary_hostname",
      "tls_certificate", "tls_privatekey", "localhost_number", "cluster");

  private ConfigLoader() {
  }

  /** The files a configuration is made of, main file first. */
  public static List<Path> files(Path configFile) {
    Path dir = configFile.toAbsolutePath().getParent();
    return List.of(configFile, dir.resolve(ACL_FILE), dir.resolve(PASSWD_FILE), dir.resolve(ALIASES_FILE));
  }

  /** node.yaml beside the main file. */
  public static Path nodeFile(Path configFile) {
    return configFile.toAbsolutePath().getParent().resolve(NODE_FILE);
  }

  /** Reads the files from disk (blocking) and parses them. Missing passwd/aliases count as empty. */
  public static PosternConfig load(Path configFile) throws ConfigException {
    return parse(configFile, read(configFile));
  }

  /**
   * Every option of {@code postern.yaml} (and node.yaml over it) with the value in force, given or
   * default, by its qualified name ({@code message_size_limit}, {@code transports.remote_smtp.port}),
   * in the order the loader reads them: what {@code -bP} prints. Secrets are not hidden here.
   */
  public static Map<String, String> effectiveOptions(Path configFile) throws ConfigException {
    Map<String, String> effective = new LinkedHashMap<>();
    parse(configFile, read(configFile), Map.of(), effective);
    return effective;
  }

  /**
   * Reads the files of a configuration from disk (blocking): the replicated ones and node.yaml
   * when there is one; missing passwd and aliases are left out.
   */
  public static Map<Path, String> read(Path configFile) throws ConfigException {
    Map<Path, String> texts = new LinkedHashMap<>();
    List<Path> files = new ArrayList<>(files(configFile));
    files.add(nodeFile(configFile));
    for (int i = 0; i < files.size(); i++) {
      Path f = files.get(i);
      try {
        texts.put(f, Files.readString(f, StandardCharsets.UTF_8));
      } catch (NoSuchFileException e) {
        if (i < 2) {
          throw new ConfigException(display(f), 0, null, "file not found");
        }
      } catch (IOException e) {
        throw new ConfigException(display(f), 0, null, "cannot read: " + e.getMessage());
      }
    }
    return texts;
  }

  /**
   * Parses file contents already read (e.g. by a Vert.x {@code ConfigRetriever}): the replicated
   * files and node.yaml ({@link #nodeFile}) when present; list files are read from disk.
   */
  public static PosternConfig parse(Path configFile, Map<Path, String> texts) throws ConfigException {
    return parse(configFile, texts, Map.of());
  }

  /**
   * As {@link #parse(Path, Map)}, with the list files given (a configuration generation received
   * from the cluster): a list file found in {@code listFiles} is not read from disk.
   */
  public static PosternConfig parse(Path configFile, Map<Path, String> texts, Map<Path, String> listFileTexts)
      throws ConfigException {
    return parse(configFile, texts, listFileTexts, new LinkedHashMap<>());
  }

  private static PosternConfig parse(Path configFile, Map<Path, String> texts, Map<Path, String> listFileTexts,
                                     Map<String, String> effective)
      throws ConfigException {
    List<Path> files = files(configFile);
    Path base = configFile.toAbsolutePath().getParent();
    String mainName = display(files.get(0));
    String nodeText = texts.getOrDefault(nodeFile(configFile), "");
    YamlSection node = YamlSection.parse(display(nodeFile(configFile)), nodeText, effective);
    YamlSection main = YamlSection.parse(mainName, texts.getOrDefault(files.get(0), ""), effective);
    YamlSection mainCluster = main.section("cluster");
    main = main.overriddenBy(node, NODE_OPTIONS,
        "not a node-local option: set it in " + files.get(0).getFileName() + ", which every node shares");
    ClusterSettings cluster = ClusterSettings.parse(mainCluster, node.section("cluster"));
    main.section("cluster"); // read above, from each file
    Integer localhostNumber = main.has("localhost_number")
        ? main.integer("localhost_number", 0, 0, org.postern.spool.MessageIds.MAX_LOCALHOST_NUMBER) : null;

    String primaryHostname = main.string("primary_hostname", null);
    if (primaryHostname == null) {
      primaryHostname = machineName();
    } else if (!primaryHostname.matches("[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?")) {
      throw main.error("primary_hostname", "not a host name: \"" + primaryHostname + "\"");
    }
    String banner = main.string("smtp_banner", "$primary_hostname ESMTP Postern")
        .replace("$primary_hostname", primaryHostname).replace("${primary_hostname}", primaryHostname);

    Map<String, HostList> hostLists = new LinkedHashMap<>();
    Map<String, DomainList> domainLists = new LinkedHashMap<>();
    Map<String, AddressList> addressLists = new LinkedHashMap<>();
    Map<String, LocalPartList> localPartLists = new LinkedHashMap<>();
    ListFiles listFiles = new ListFiles(listFileTexts);
    String host = primaryHostname;
    YamlSection hostSection = main.section("hostlist");
    if (hostSection != null) {
      for (String name : hostSection.keys()) {
        hostLists.put(name, hostListOption(hostSection, name, "", hostLists, listFiles));
      }
    }
    hostLists.putIfAbsent("relay_from_hosts", HostList.parse("<; 127.0.0.1 ; ::1", hostLists::get));
    YamlSection domainSection = main.section("domainlist");
    if (domainSection != null) {
      for (String name : domainSection.keys()) {
        domainLists.put(name, namedDomainList(domainSection, name, host, domainLists, listFiles));
      }
    }
    domainLists.putIfAbsent("local_domains", DomainList.parse("localhost : @", host, domainLists::get));
    YamlSection addressSection = main.section("addresslist");
    if (addressSection != null) {
      for (String name : addressSection.keys()) {
        try {
          addressLists.put(name, AddressList.parse(addressSection.list(name, List.of()), addressSection.isSequence(name),
              host, addressLists::get, listFiles));
        } catch (IllegalArgumentException e) {
          throw addressSection.error(name, e.getMessage());
        }
      }
    }
    YamlSection localPartSection = main.section("localpartlist");
    if (localPartSection != null) {
      for (String name : localPartSection.keys()) {
        try {
          localPartLists.put(name, LocalPartList.parse(localPartSection.list(name, List.of()),
              localPartSection.isSequence(name), localPartLists::get, listFiles));
        } catch (IllegalArgumentException e) {
          throw localPartSection.error(name, e.getMessage());
        }
      }
    }

    List<ListenerConfig> listeners = listeners(main);
    Path spool = base.resolve(main.string("spool_directory", "../data/spool")).normalize();
    Path maildir = base.resolve(main.string("maildir_directory", "../data/maildir")).normalize();
    Path logDir = base.resolve(main.string("log_directory", "../data/log")).normalize();
    // -bP shows what is in force: the host name found and the directories resolved.
    effective.put("primary_hostname", primaryHostname);
    effective.put("spool_directory", spool.toString());
    effective.put("maildir_directory", maildir.toString());
    effective.put("log_directory", logDir.toString());
    long sizeLimit = main.size("message_size_limit", 50L * 1024 * 1024);
    int recipientsMax = main.integer("recipients_max", 50000, 1, 1_000_000);
    int unknownMax = main.integer("smtp_max_unknown_commands", 3, 0, 1000);
    int synprotMax = main.integer("smtp_max_synprot_errors", 3, 0, 1000);
    Duration receiveTimeout = main.duration("smtp_receive_timeout", Duration.ofMinutes(5));
    if (receiveTimeout.isZero()) {
      throw main.error("smtp_receive_timeout", "must be longer than 0s");
    }
    Duration dataTimeout = main.duration("smtp_data_timeout", Duration.ofMinutes(30));
    if (dataTimeout.isZero()) {
      throw main.error("smtp_data_timeout", "must be longer than 0s");
    }
    StorageChecks storage = StorageChecks.parse(main);
    LogRotation logRotation = new LogRotation(main.size("log_rotate_size", 0),
        main.integer("log_keep_days", 10, 0, 3650));
    int acceptMax = main.integer("smtp_accept_max", 10000, 0, 10_000_000);
    int acceptMaxPerHost = main.integer("smtp_accept_max_per_host", 100, 0, 10_000_000);
    LogRate errorLogRate;
    try {
      errorLogRate = LogRate.parse(main.string("connection_error_log_rate", "10 / 1m"));
    } catch (IllegalArgumentException e) {
      throw main.error("connection_error_log_rate", e.getMessage());
    }
    Duration proxyTimeout = main.duration("proxy_protocol_timeout", Duration.ofSeconds(3));
    if (proxyTimeout.isZero()) {
      throw main.error("proxy_protocol_timeout", "must be longer than 0s");
    }
    ProxySettings proxy = new ProxySettings(hostListOption(main, "hosts_proxy", "", hostLists, listFiles),
        proxyTimeout);
    boolean enforceSync = main.bool("smtp_enforce_sync", true);
    String bareLf = main.string("bare_lf", "reject");
    BareLineEnds bareLineEnds = switch (bareLf) {
      case "reject" -> BareLineEnds.REJECT;
      case "normalize" -> BareLineEnds.NORMALIZE;
      default -> throw main.error("bare_lf", "expected reject or normalize, got \"" + bareLf + "\"");
    };
    HostList chunkingHosts = hostListOption(main, "chunking_advertise_hosts", "*", hostLists, listFiles);

    boolean queueOnly = main.bool("queue_only", false);
    Duration pluginTimeout = main.duration("acl_plugin_timeout", Duration.ofSeconds(5));
    Map<String, Duration> pluginTimeouts = pluginTimeouts(main);
    Path pluginDirectory = base.resolve(main.string("plugin_directory", "../plugins")).normalize();
    DnsSettings dns = dnsSettings(main);
    TlsSettings tls = tlsSettings(main, base, hostLists);
    AuthSettings auth = authSettings(main, base, hostLists);

    String aclName = display(files.get(1));
    YamlSection aclFile = YamlSection.parse(aclName, texts.getOrDefault(files.get(1), ""));
    Map<String, Acl> acls = new AclParser(new AclLists(hostLists, domainLists, addressLists, localPartLists, listFiles),
        host).parse(aclFile);
    Map<AclStage, String> stages = new EnumMap<>(AclStage.class);
    for (AclStage stage : AclStage.values()) {
      String option = stage.optionName();
      String def = switch (stage) {
        case RCPT -> acls.containsKey("acl_check_rcpt") ? "acl_check_rcpt" : null;
        case EXPN -> acls.containsKey("acl_check_expn") ? "acl_check_expn" : null;
        default -> null;
      };
      String name = main.string(option, def);
      if (name != null) {
        if (!acls.containsKey(name)) {
          throw main.error(option, "no ACL named \"" + name + "\" in " + aclName);
        }
        stages.put(stage, name);
      }
    }
    DeliverySettings delivery = DeliverySettings.parse(main, primaryHostname, base, hostLists, domainLists);
    AdminSettings admin = AdminSettings.parse(main, base);
    // Exim leaves dsn_advertise_hosts unset (no DSN); Postern offers it to everyone.
    HostList dsnAdvertise = hostListOption(main, "dsn_advertise_hosts", "*", hostLists);
    ExtensionAdvertising extensions = new ExtensionAdvertising(
        hostListOption(main, "smtputf8_advertise_hosts", "*", hostLists),
        hostListOption(main, "requiretls_advertise_hosts", "*", hostLists));
    main.rejectUnknown();

    LocalUsers users = LocalUsers.parse(display(files.get(2)), texts.get(files.get(2)),
        display(files.get(3)), texts.get(files.get(3)));

    return new PosternConfig(generation(files, texts, listFiles.contents()), configFile, primaryHostname, banner, listeners,
        spool, maildir, logDir, domainLists.get("local_domains"), hostLists.get("relay_from_hosts"),
        Map.copyOf(hostLists), Map.copyOf(domainLists), sizeLimit, recipientsMax, unknownMax, synprotMax, 512,
        receiveTimeout, acceptMax, acceptMaxPerHost, errorLogRate, enforceSync, bareLineEnds, chunkingHosts, queueOnly, pluginTimeout,
        pluginTimeouts, Map.copyOf(stages),
        Map.copyOf(acls), users, tls, auth, dns, Map.copyOf(addressLists), Map.copyOf(localPartLists),
        Map.copyOf(listFiles.contents()), delivery, dataTimeout, storage, logRotation, proxy, admin, pluginDirectory, cluster, localhostNumber,
        replicated(files, texts), nodeText, dsnAdvertise, extensions);
  }

  /** The replicated files' texts as parsed, main file first; absent passwd or aliases are empty. */
  private static Map<Path, String> replicated(List<Path> files, Map<Path, String> texts) {
    Map<Path, String> out = new LinkedHashMap<>();
    for (Path f : files) {
      out.put(f, texts.getOrDefault(f, ""));
    }
    return java.util.Collections.unmodifiableMap(out);
  }

  private static DomainList namedDomainList(YamlSection s, String name, String host, Map<String, DomainList> known,
                                            ListFiles files) throws ConfigException {
    try {
      return s.isSequence(name) ? DomainList.parse(s.list(name, List.of()), host, known::get, files)
          : DomainList.parse(s.string(name, ""), host, known::get, files);
    } catch (IllegalArgumentException e) {
      throw s.error(name, e.getMessage());
    }
  }

  private static List<ListenerConfig> listeners(YamlSection main) throws ConfigException {
    YamlSection section = main.section("listeners");
    if (section == null) {
      return List.of(new ListenerConfig("smtp", "127.0.0.1", 2525), new ListenerConfig("submission", "127.0.0.1", 2587),
          new ListenerConfig("smtps", "127.0.0.1", 2465));
    }
    List<ListenerConfig> out = new ArrayList<>();
    for (String name : section.keys()) {
      YamlSection l = section.section(name);
      if (l == null) {
        throw section.error(name, "expected { address: ..., port: ... }");
      }
      out.add(ListenerConfig.parse(name, l));
    }
    return List.copyOf(out);
  }

  /** {@code acl_plugin_timeouts: {greylist: 2s}}: per plugin name, overriding {@code acl_plugin_timeout}. */
  private static Map<String, Duration> pluginTimeouts(YamlSection main) throws ConfigException {
    YamlSection section = main.section("acl_plugin_timeouts");
    if (section == null) {
      return Map.of();
    }
    Map<String, Duration> timeouts = new java.util.LinkedHashMap<>();
    for (String name : section.keys()) {
      if (!name.matches(PLUGIN_NAME)) {
        throw section.error(name, "a plugin name is letters, digits and ._- only");
      }
      Duration d = section.duration(name, null);
      if (d.isZero()) {
        throw section.error(name, "must be longer than 0s");
      }
      timeouts.put(name, d);
    }
    section.rejectUnknown();
    return Map.copyOf(timeouts);
  }

  /** What a plugin name ({@code plugin: NAME}, {@code acl_plugin_timeouts}) may be made of. */
  static final String PLUGIN_NAME = "[A-Za-z0-9_.-]+";

  private static TlsSettings tlsSettings(YamlSection main, Path base, Map<String, HostList> hostLists)
      throws ConfigException {
    HostList advertise = hostListOption(main, "tls_advertise_hosts", "*", hostLists);
    HostList verify = hostListOption(main, "tls_verify_hosts", "", hostLists);
    HostList tryVerify = hostListOption(main, "tls_try_verify_hosts", "", hostLists);
    String cert = main.string("tls_certificate", null);
    String key = main.string("tls_privatekey", null);
    if (cert == null && key != null) {
      throw main.error("tls_privatekey", "tls_privatekey without tls_certificate");
    }
    String ca = main.string("tls_verify_certificates", null);
    if (ca == null && (!verify.spec().isEmpty() || !tryVerify.spec().isEmpty())) {
      throw main.error(verify.spec().isEmpty() ? "tls_try_verify_hosts" : "tls_verify_hosts",
          "client certificates need tls_verify_certificates (a CA bundle)");
    }
    javax.net.ssl.SSLParameters supported;
    try {
      supported = javax.net.ssl.SSLContext.getDefault().getSupportedSSLParameters();
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    TlsEngine engine;
    try {
      engine = TlsEngine.parse(main.string("tls_engine", "auto"));
    } catch (IllegalArgumentException e) {
      throw main.error("tls_engine", e.getMessage());
    }
    if (engine == TlsEngine.OPENSSL && !TlsEngine.openSslAvailable()) {
      throw main.error("tls_engine", "OpenSSL (netty-tcnative) is unavailable here: "
          + TlsEngine.openSslUnavailableCause() + " (use auto or jdk)");
    }
    List<String> ciphers;
    try {
      ciphers = org.postern.tls.CipherNames.toJsse(main.string("tls_require_ciphers",
          org.postern.tls.CipherNames.INTERMEDIATE), engine.supportedCipherSuites());
    } catch (IllegalArgumentException e) {
      throw main.error("tls_require_ciphers", e.getMessage());
    }
    List<String> protocols = new ArrayList<>();
    for (String p : main.string("tls_protocols", "TLSv1.2 TLSv1.3").split("[:,\\s]+")) {
      if (p.isEmpty()) {
        continue;
      }
      if (!java.util.Arrays.asList(supported.getProtocols()).contains(p) || p.startsWith("SSL")) {
        throw main.error("tls_protocols", "unknown or unsafe protocol \"" + p + "\" (use TLSv1.2, TLSv1.3)");
      }
      protocols.add(p);
    }
    if (protocols.isEmpty()) {
      throw main.error("tls_protocols", "no protocol listed");
    }
    java.util.Set<Integer> onConnect = new java.util.LinkedHashSet<>();
    for (String item : main.list("tls_on_connect_ports", List.of("2465"))) {
      for (String port : item.split("[:,\\s]+")) {
        if (port.isEmpty()) {
          continue;
        }
        try {
          onConnect.add(Integer.parseInt(port));
        } catch (NumberFormatException e) {
          throw main.error("tls_on_connect_ports", "not a port number: \"" + port + "\"");
        }
      }
    }
    Duration handshake = main.duration("tls_handshake_timeout", Duration.ofSeconds(10));
    if (handshake.isZero()) {
      throw main.error("tls_handshake_timeout", "must be longer than 0s");
    }
    int handshakeMax = main.integer("tls_handshake_max", 500, 0, 10_000_000);
    return new TlsSettings(advertise, cert == null ? null : base.resolve(cert).normalize(),
        key == null ? null : base.resolve(key).normalize(), verify, tryVerify,
        ca == null ? null : base.resolve(ca).normalize(), ciphers, List.copyOf(protocols),
        java.util.Set.copyOf(onConnect), base.resolve(main.string("tls_directory", "../data/tls")).normalize(),
        handshake, handshakeMax, engine);
  }

  /** Reads {@code dns_servers}, {@code dns_timeout} and {@code dns_retry} from postern.yaml. */
  private static DnsSettings dnsSettings(YamlSection main) throws ConfigException {
    List<DnsServerAddress> servers = new ArrayList<>();
    List<String> items = main.list("dns_servers", null);
    if (items == null) {
      servers.addAll(DnsSettings.systemServers());
    } else {
      for (String item : items) {
        for (String part : item.split("\\s*,\\s*|\\s+")) {
          if (part.isEmpty()) {
            continue;
          }
          try {
            servers.add(DnsServerAddress.parse(part));
          } catch (IllegalArgumentException e) {
            throw main.error("dns_servers", e.getMessage());
          }
        }
      }
      if (servers.isEmpty()) {
        throw main.error("dns_servers", "no name server given");
      }
    }
    Duration timeout = main.duration("dns_timeout", DnsSettings.DEFAULT_TIMEOUT);
    if (timeout.isZero()) {
      throw main.error("dns_timeout", "must be longer than 0s");
    }
    int retry = main.integer("dns_retry", DnsSettings.DEFAULT_RETRY, 1, 10);
    return new DnsSettings(servers, timeout, retry);
  }

  private static AuthSettings authSettings(YamlSection main, Path base, Map<String, HostList> hostLists)
      throws ConfigException {
    String provider = main.string("auth_provider", "passwd");
    Path properties = null;
    if (provider.startsWith("properties:")) {
      properties = base.resolve(provider.substring("properties:".length()).strip()).normalize();
    } else if (!provider.equals("passwd")) {
      throw main.error("auth_provider", "expected passwd or properties:<file>, got \"" + provider + "\"");
    }
    HostList advertise = main.has("auth_advertise_hosts")
        ? hostListOption(main, "auth_advertise_hosts", "", hostLists) : null;
    int maxFailures = main.integer("smtp_max_auth_failures", 3, 1, 100);
    Duration delay = main.duration("smtp_auth_failure_delay", Duration.ofSeconds(1));
    int perHost = main.integer("auth_failures_per_host", 10, 0, 1_000_000);
    int perNetwork = main.integer("auth_failures_per_network", 30, 0, 1_000_000);
    int perUser = main.integer("auth_failures_per_user", 20, 0, 1_000_000);
    Duration window = main.duration("auth_failures_window", Duration.ofMinutes(10));
    if (window.isZero() || window.isNegative()) {
      throw main.error("auth_failures_window", "must be longer than 0s");
    }
    List<AuthenticatorConfig> authenticators = new ArrayList<>();
    YamlSection section = main.section("authenticators");
    if (section == null) {
      authenticators.add(new AuthenticatorConfig("plain", "plaintext", "PLAIN", List.of(), null, null, null));
      authenticators.add(new AuthenticatorConfig("login", "plaintext", "LOGIN",
          List.of("Username:", "Password:"), null, null, null));
      // No CRAM-MD5 by default: it needs a recoverable secret, so it fails for the schemes
      // `postern passwd` writes, and clients that prefer it paid a failure per login (issue 11).
      authenticators.add(new AuthenticatorConfig("scram", "scram", "SCRAM-SHA-256", List.of(), null, null, null));
    } else {
      java.util.Set<String> names = new java.util.HashSet<>();
      for (String name : section.keys()) {
        YamlSection a = section.section(name);
        if (a == null) {
          throw section.error(name, "expected { driver: ..., public_name: ... }");
        }
        String driver = a.string("driver", null);
        if (driver == null || !List.of("plaintext", "cram_md5", "scram", AuthenticatorConfig.PLUGIN).contains(driver)) {
          throw a.error("driver", "expected plaintext, cram_md5, scram or plugin, got "
              + (driver == null ? "nothing" : "\"" + driver + "\""));
        }
        String publicName = a.string("public_name", null);
        if (publicName == null || !publicName.matches("[A-Z0-9_-]{1,20}")) {
          throw a.error("public_name", "a SASL mechanism name such as PLAIN is required");
        }
        boolean supported = switch (driver) {
          case "plaintext" -> publicName.equals("PLAIN") || publicName.equals("LOGIN");
          case "cram_md5" -> publicName.equals("CRAM-MD5");
          case AuthenticatorConfig.PLUGIN -> !publicName.equals("CANCEL");
          default -> publicName.equals("SCRAM-SHA-256");
        };
        if (!supported) {
          throw a.error("public_name", driver + " cannot serve " + publicName);
        }
        if (!names.add(publicName)) {
          throw a.error("public_name", publicName + " is served by two authenticators");
        }
        List<String> prompts = List.of();
        String promptSpec = a.string("server_prompts", null);
        if (promptSpec != null) {
          // Exim list syntax: ':' separates, '::' is a literal colon ("Username:: : Password::").
          prompts = java.util.Arrays.stream(promptSpec.replace("::", "\u0000").split(":"))
              .map(p -> p.replace('\u0000', ':').strip()).filter(p -> !p.isEmpty()).toList();
        } else if (publicName.equals("LOGIN")) {
          prompts = List.of("Username:", "Password:");
        }
        String address = null;
        Duration timeout = null;
        if (driver.equals(AuthenticatorConfig.PLUGIN)) {
          address = a.string("address", Addresses.AUTH_PLUGIN_PREFIX + name);
          if (address.isBlank() || address.chars().anyMatch(Character::isWhitespace)
              || address.startsWith(Addresses.AUTH_PREFIX) && !address.startsWith(Addresses.AUTH_PLUGIN_PREFIX)) {
            throw a.error("address", "an event-bus address without blanks, outside " + Addresses.AUTH_PREFIX
                + "<MECHANISM> (which the authenticators serve), e.g. " + Addresses.AUTH_PLUGIN_PREFIX + name);
          }
          timeout = a.duration("timeout", Duration.ofSeconds(10));
          if (timeout.isZero()) {
            throw a.error("timeout", "must be longer than 0s");
          }
        }
        authenticators.add(new AuthenticatorConfig(name, driver, publicName, prompts,
            expansion(a, "server_condition"), expansion(a, "server_set_id"),
            expansion(a, "server_advertise_condition"), address, timeout));
        // Client options belong to the smtp transport (ClientAuthenticator); accepted here, not used.
        for (String option : ClientAuthenticator.OPTIONS) {
          a.list(option, null);
        }
        a.rejectUnknown();
      }
    }
    return new AuthSettings(advertise, List.copyOf(authenticators), maxFailures, delay, perHost, perNetwork,
        perUser, window, properties);
  }

  private static org.postern.expand.Expansion expansion(YamlSection s, String option) throws ConfigException {
    String text = s.string(option, null);
    if (text == null) {
      return null;
    }
    try {
      return org.postern.expand.Expansion.parse(text, VariableNames::isKnown);
    } catch (IllegalArgumentException e) {
      throw s.error(option, e.getMessage());
    }
  }

  private static HostList hostListOption(YamlSection s, String option, String def, Map<String, HostList> known)
      throws ConfigException {
    return hostListOption(s, option, def, known, null);
  }

  private static HostList hostListOption(YamlSection s, String option, String def, Map<String, HostList> known,
                                         ListFiles files) throws ConfigException {
    try {
      return s.isSequence(option) ? HostList.parse(s.list(option, List.of()), known::get, files)
          : HostList.parse(s.string(option, def), known::get, files);
    } catch (IllegalArgumentException e) {
      throw s.error(option, e.getMessage());
    }
  }

  private static String machineName() {
    try {
      String name = InetAddress.getLocalHost().getHostName();
      return name == null || name.isBlank() ? "localhost" : name;
    } catch (IOException e) {
      return "localhost";
    }
  }

  /** A list file's change is a new generation, as a change of the file that names it would be. */
  private static String generation(List<Path> files, Map<Path, String> texts, Map<Path, String> listFiles) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      for (Path f : files) {
        digest.update(texts.getOrDefault(f, "").getBytes(StandardCharsets.UTF_8));
        digest.update((byte) 0);
      }
      for (Map.Entry<Path, String> f : listFiles.entrySet()) {
        digest.update(f.getKey().toString().getBytes(StandardCharsets.UTF_8));
        digest.update((byte) 0);
        digest.update(f.getValue().getBytes(StandardCharsets.UTF_8));
        digest.update((byte) 0);
      }
      return HexFormat.of().formatHex(digest.digest()).substring(0, 12);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Path as the administrator wrote it, relative to the working directory where possible. */
  public static String display(Path p) {
    Path abs = p.toAbsolutePath().normalize();
    Path cwd = Path.of("").toAbsolutePath();
    return abs.startsWith(cwd) ? cwd.relativize(abs).toString() : abs.toString();
  }
}
