package org.postern.config;

import org.postern.lists.HostList;
import org.postern.net.IpAddresses;
import org.postern.tls.CipherNames;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;

/**
 * The options of an {@code smtp} transport, under Exim's names and with Exim's defaults unless
 * noted. Immutable; parsed once per configuration generation.
 *
 * @param port                   {@code port}: remote port (25; 465 with {@code protocol: smtps})
 * @param smtps                  {@code protocol: smtps}: TLS from the first byte (RFC 8314), as to a
 *                               submission port 465 smarthost; never clear text, no STARTTLS
 * @param interfaceAddress       {@code interface}: the local IP address connections come from, or null
 * @param heloData               {@code helo_data}: the name sent in EHLO/HELO (primary hostname)
 * @param connectTimeout         {@code connect_timeout} (5m)
 * @param commandTimeout         {@code command_timeout}: wait for each reply to a command (5m)
 * @param dataTimeout            {@code data_timeout}: longest wait for the socket to take more data (5m)
 * @param finalTimeout           {@code final_timeout}: wait for the reply to the final dot (10m)
 * @param hostsAvoidTls          {@code hosts_avoid_tls}: never STARTTLS to these
 * @param hostsRequireTls        {@code hosts_require_tls}: TLS or deferral, never clear text
 * @param tlsTempfailTryclear    {@code tls_tempfail_tryclear}: after a failed STARTTLS, retry in clear on a
 *                               new connection when the host is not in {@code hosts_require_tls} (true)
 * @param tlsVerifyCertificates  {@code tls_verify_certificates}: PEM CA bundle path, {@code system}, or null
 *                               (no verification: CV=no, nothing enforced)
 * @param tlsVerifyHosts         {@code tls_verify_hosts}: server certificate must verify (empty)
 * @param tlsTryVerifyHosts      {@code tls_try_verify_hosts}: verification attempted, result only logged (*)
 * @param tlsVerifyCertHostnames {@code tls_verify_cert_hostnames}: hosts whose certificate must also name
 *                               the host (*)
 * @param tlsRequireCiphers      {@code tls_require_ciphers} as JSSE suite names; empty = JDK defaults
 * @param tlsCertificate         {@code tls_certificate}: client certificate chain (PEM), or null
 * @param tlsPrivateKey          {@code tls_privatekey}: its key (PEM); null = in the certificate file
 * @param tlsSni                 {@code tls_sni}: server name indication sent, or null (none, as Exim)
 * @param hostsTryAuth           {@code hosts_try_auth}: authenticate when possible, go on unauthenticated on failure
 * @param hostsRequireAuth       {@code hosts_require_auth}: authenticate or defer
 * @param hostsAvoidPipelining   {@code hosts_avoid_pipelining}: never pipeline to these
 * @param hostsTryChunking       {@code hosts_try_chunking}: send with BDAT (RFC 3030) to these when they
 *                               offer CHUNKING, else DATA (*)
 * @param hostsMaxTry            {@code hosts_max_try}: hosts (IP addresses) tried for one delivery, not
 *                               counting those whose retry time has not come (5)
 * @param maxRcpt                {@code max_rcpt}: recipients per transaction (100)
 * @param connectionMaxMessages  {@code connection_max_messages}: messages per connection (500)
 * @param sizeAddition           {@code size_addition}: added to the size given in {@code SIZE=} (1024)
 * @param authenticators         client authenticators, tried in order
 * @param honourTlsRequiredNo    {@code honour_tls_required_no} (Postern's; true, as RFC 8689 5 says): a
 *                               message with {@code TLS-Required: No} is not held back by
 *                               {@code hosts_require_tls}, {@code tls_verify_hosts} or
 *                               {@code tls_tempfail_tryclear}
 */
public record SmtpTransportOptions(int port, boolean smtps, String interfaceAddress, String heloData, Duration connectTimeout, Duration commandTimeout,
                                   Duration dataTimeout, Duration finalTimeout, HostList hostsAvoidTls,
                                   HostList hostsRequireTls, boolean tlsTempfailTryclear, String tlsVerifyCertificates,
                                   HostList tlsVerifyHosts, HostList tlsTryVerifyHosts,
                                   HostList tlsVerifyCertHostnames, List<String> tlsRequireCiphers,
                                   Path tlsCertificate, Path tlsPrivateKey, String tlsSni, HostList hostsTryAuth,
                                   HostList hostsRequireAuth, HostList hostsAvoidPipelining,
                                   HostList hostsTryChunking, int hostsMaxTry, int maxRcpt,
                                   int connectionMaxMessages, long sizeAddition,
                                   List<ClientAuthenticator> authenticators, boolean honourTlsRequiredNo) {

  /** {@code tls_verify_certificates} value that selects the JDK's CA store. */
  public static final String SYSTEM_CA = "system";

  public SmtpTransportOptions {
    tlsRequireCiphers = List.copyOf(tlsRequireCiphers);
    authenticators = List.copyOf(authenticators);
  }

  /**
   * Reads a transport section.
   *
   * @param section         the transport's mapping ({@code driver: smtp} may be given, nothing else unknown)
   * @param primaryHostname default for {@code helo_data}
   * @param base            directory that relative file names are resolved against
   * @param namedLists      resolves {@code +name} host lists (may return null for unknown names)
   * @param authenticators  the configuration's client authenticators
   * @throws ConfigException naming file, line and option
   */
  public static SmtpTransportOptions parse(YamlSection section, String primaryHostname, Path base,
                                           Function<String, HostList> namedLists,
                                           List<ClientAuthenticator> authenticators) throws ConfigException {
    String driver = section.string("driver", "smtp");
    if (!driver.equals("smtp")) {
      throw section.error("driver", "expected smtp or plugin, got \"" + driver + "\"");
    }
    String protocol = section.string("protocol", "smtp");
    if (!protocol.equals("smtp") && !protocol.equals("smtps")) {
      throw section.error("protocol", "expected smtp or smtps, got \"" + protocol + "\"");
    }
    boolean smtps = protocol.equals("smtps");
    int port = section.integer("port", smtps ? 465 : 25, 1, 65535);
    String interfaceAddress = section.string("interface", null);
    if (interfaceAddress != null && !IpAddresses.isIpAddress(interfaceAddress)) {
      throw section.error("interface", "not an IPv4 or IPv6 address: \"" + interfaceAddress + "\"");
    }
    String helo = section.string("helo_data", primaryHostname);
    if (helo == null || !helo.matches("[A-Za-z0-9.\\-\\[\\]:_]+")) {
      throw section.error("helo_data", "not a host name or address literal: \"" + helo + "\"");
    }
    Duration connect = positive(section, "connect_timeout", Duration.ofMinutes(5));
    Duration command = positive(section, "command_timeout", Duration.ofMinutes(5));
    Duration data = positive(section, "data_timeout", Duration.ofMinutes(5));
    Duration fin = positive(section, "final_timeout", Duration.ofMinutes(10));
    HostList avoidTls = hosts(section, "hosts_avoid_tls", "", namedLists);
    HostList requireTls = hosts(section, "hosts_require_tls", "", namedLists);
    boolean tryClear = section.bool("tls_tempfail_tryclear", true);
    String ca = section.string("tls_verify_certificates", null);
    if (ca != null && !ca.equals(SYSTEM_CA)) {
      Path caPath = base.resolve(ca).normalize();
      if (!Files.isReadable(caPath)) {
        throw section.error("tls_verify_certificates", "cannot read " + caPath);
      }
      ca = caPath.toString();
    }
    HostList verifyHosts = hosts(section, "tls_verify_hosts", "", namedLists);
    if (ca == null && !verifyHosts.spec().isEmpty()) {
      throw section.error("tls_verify_hosts", "verification needs tls_verify_certificates (a CA bundle or system)");
    }
    HostList tryVerify = hosts(section, "tls_try_verify_hosts", "*", namedLists);
    HostList hostnames = hosts(section, "tls_verify_cert_hostnames", "*", namedLists);
    List<String> ciphers = List.of();
    String cipherSpec = section.string("tls_require_ciphers", null);
    if (cipherSpec != null) {
      try {
        ciphers = CipherNames.toJsse(cipherSpec);
      } catch (IllegalArgumentException e) {
        throw section.error("tls_require_ciphers", e.getMessage());
      }
    }
    Path cert = file(section, "tls_certificate", base);
    Path key = file(section, "tls_privatekey", base);
    if (cert == null && key != null) {
      throw section.error("tls_privatekey", "tls_privatekey without tls_certificate");
    }
    String sni = section.string("tls_sni", null);
    if (sni != null && !sni.matches("[A-Za-z0-9]([A-Za-z0-9.\\-]*[A-Za-z0-9])?")) {
      throw section.error("tls_sni", "not a host name: \"" + sni + "\"");
    }
    HostList tryAuth = hosts(section, "hosts_try_auth", "", namedLists);
    HostList requireAuth = hosts(section, "hosts_require_auth", "", namedLists);
    if (!requireAuth.spec().isEmpty() && authenticators.isEmpty()) {
      throw section.error("hosts_require_auth", "no client authenticator is configured (client_send, client_name)");
    }
    HostList avoidPipelining = hosts(section, "hosts_avoid_pipelining", "", namedLists);
    HostList tryChunking = hosts(section, "hosts_try_chunking", "*", namedLists);
    int hostsMaxTry = section.integer("hosts_max_try", 5, 1, 1000);
    int maxRcpt = section.integer("max_rcpt", 100, 1, 100_000);
    int maxMessages = section.integer("connection_max_messages", 500, 1, 1_000_000);
    long sizeAddition = section.size("size_addition", 1024);
    boolean honourTlsRequiredNo = section.bool("honour_tls_required_no", true);
    section.rejectUnknown();
    return new SmtpTransportOptions(port, smtps, interfaceAddress, helo, connect, command, data, fin, avoidTls,
        requireTls, tryClear, ca, verifyHosts, tryVerify, hostnames, ciphers, cert, key, sni, tryAuth, requireAuth,
        avoidPipelining, tryChunking, hostsMaxTry, maxRcpt, maxMessages, sizeAddition, authenticators,
        honourTlsRequiredNo);
  }

  /** Defaults only, for callers (and tests) that build options in code. */
  public static SmtpTransportOptions defaults(String heloData) {
    return new SmtpTransportOptions(25, false, null, heloData, Duration.ofMinutes(5), Duration.ofMinutes(5),
        Duration.ofMinutes(5), Duration.ofMinutes(10), HostList.of(""), HostList.of(""), true, null, HostList.of(""),
        HostList.of("*"), HostList.of("*"), List.of(), null, null, null, HostList.of(""), HostList.of(""),
        HostList.of(""), HostList.of("*"), 5, 100, 500, 1024, List.of(), true);
  }

  private static Duration positive(YamlSection s, String option, Duration def) throws ConfigException {
    Duration d = s.duration(option, def);
    if (d.isZero() || d.isNegative()) {
      throw s.error(option, "must be greater than zero");
    }
    return d;
  }

  private static HostList hosts(YamlSection s, String option, String def, Function<String, HostList> named)
      throws ConfigException {
    try {
      return s.isSequence(option) ? HostList.parse(s.list(option, List.of()), named)
          : HostList.parse(s.string(option, def), named);
    } catch (IllegalArgumentException e) {
      throw s.error(option, e.getMessage());
    }
  }

  private static Path file(YamlSection s, String option, Path base) throws ConfigException {
    String name = s.string(option, null);
    if (name == null) {
      return null;
    }
    Path p = base.resolve(name).normalize();
    if (!Files.isReadable(p)) {
      throw s.error(option, "cannot read " + p);
    }
    return p;
  }
}
