package org.postern.dns;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * How Postern asks DNS: which servers ({@code dns_servers}, Postern's own option), how long one
 * query may take ({@code dns_timeout}, like Exim's {@code dns_retrans}) and how many rounds over
 * the servers are made ({@code dns_retry}, as Exim and the C resolver count it: attempts per server).
 *
 * @param servers asked in order, round after round
 * @param timeout the limit of one query to one server
 * @param retry   rounds over {@code servers}, at least 1
 */
public record DnsSettings(List<DnsServerAddress> servers, Duration timeout, int retry) {
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);
  public static final int DEFAULT_RETRY = 2;
  /** Added to each attempt's timeout before Postern gives up on it itself: see {@link #bound()}. */
  static final Duration GUARD_SLACK = Duration.ofSeconds(1);
  private static final Path RESOLV_CONF = Path.of("/etc/resolv.conf");
  private static final DnsServerAddress LOCALHOST = new DnsServerAddress("127.0.0.1", DnsServerAddress.DNS_PORT);

  public DnsSettings {
    servers = List.copyOf(servers);
    if (servers.isEmpty()) {
      throw new IllegalArgumentException("no name servers");
    }
    if (timeout.isZero() || timeout.isNegative()) {
      throw new IllegalArgumentException("timeout must be longer than 0s");
    }
    if (retry < 1) {
      throw new IllegalArgumentException("retry must be at least 1");
    }
  }

  /** Queries one lookup may send before it is a temporary failure. */
  public int attempts() {
    return servers.size() * retry;
  }

  /**
   * The longest one lookup can take: every attempt timing out. An attempt normally ends after
   * {@code timeout}; {@link #GUARD_SLACK} more is the hard limit in case the client never reports.
   */
  public Duration bound() {
    return timeout.plus(GUARD_SLACK).multipliedBy(attempts());
  }

  /** The name servers of /etc/resolv.conf, read once per JVM; 127.0.0.1:53 when it names none. */
  public static List<DnsServerAddress> systemServers() {
    return SystemNameServers.LIST;
  }

  /**
   * The {@code nameserver} lines of a resolv.conf text, or 127.0.0.1:53 when it names none.
   * Lines that are not an IP address (a scoped {@code fe80::1%eth0}, garbage) are skipped.
   */
  public static List<DnsServerAddress> fromResolvConf(String text) {
    List<DnsServerAddress> out = new ArrayList<>();
    for (String line : text.split("\n")) {
      String[] words = line.strip().split("\\s+");
      if (words.length >= 2 && words[0].equals("nameserver")) {
        try {
          out.add(new DnsServerAddress(words[1], DnsServerAddress.DNS_PORT));
        } catch (IllegalArgumentException e) {
          // skipped, as the C resolver skips what it cannot use
        }
      }
    }
    return out.isEmpty() ? List.of(LOCALHOST) : List.copyOf(out);
  }

  /** The system's resolvers, read once per JVM: the file is tiny and never re-read on an event loop. */
  private static final class SystemNameServers {
    static final List<DnsServerAddress> LIST = read();

    private static List<DnsServerAddress> read() {
      try {
        return fromResolvConf(Files.readString(RESOLV_CONF, StandardCharsets.UTF_8));
      } catch (IOException | RuntimeException e) {
        return List.of(LOCALHOST);
      }
    }
  }
}
