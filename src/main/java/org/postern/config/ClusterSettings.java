package org.postern.config;

import org.postern.net.IpAddresses;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The {@code cluster:} section: clustered mode over Hazelcast with a TCP-IP join (no multicast).
 * {@code name} and {@code members} are the cluster's (postern.yaml); {@code host} and {@code port}
 * are this node's (node.yaml overrides them).
 *
 * @param name    Hazelcast cluster name: nodes with another name never join
 * @param host    this node's member and event-bus address
 * @param port    this node's Hazelcast member port
 * @param members where to look for the other members (this node may be among them)
 */
public record ClusterSettings(String name, String host, int port, List<Member> members) {
  /** Hazelcast's default member port. */
  public static final int DEFAULT_PORT = 5701;
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
  /** With the default separator a colon separates only with white space around it: {@code host:port} has one. */
  private static final Pattern SPACED_COLON = Pattern.compile("\\s+:\\s+");

  /** What {@code --cluster} uses without a cluster: section: one node on loopback, port 5701. */
  public static final ClusterSettings DEFAULT = new ClusterSettings("postern", "127.0.0.1", DEFAULT_PORT,
      List.of(new Member("127.0.0.1", DEFAULT_PORT)));

  /** One {@code host:port} of {@code members}. */
  public record Member(String host, int port) {
    /** As Hazelcast's TCP-IP member list wants it ({@code [v6]:port} for IPv6). */
    public String address() {
      return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
  }

  /** The {@code host:port} of this node, as {@code members} would name it. */
  public String address() {
    return new Member(host, port).address();
  }

  /**
   * Reads the section from postern.yaml ({@code main}) with node.yaml's ({@code node}) host and port
   * over it; null when neither has one (not clustered).
   */
  static ClusterSettings parse(YamlSection main, YamlSection node) throws ConfigException {
    if (main == null && node == null) {
      return null;
    }
    if (main == null) {
      throw node.error("name", "a cluster: section in node.yaml needs one in postern.yaml (name and members are the cluster's)");
    }
    String name = main.string("name", "postern");
    if (!NAME.matcher(name).matches()) {
      throw main.error("name", "expected a cluster name of letters, digits, '.', '_' and '-', got \"" + name + "\"");
    }
    String host = host(main, "127.0.0.1");
    int port = main.integer("port", DEFAULT_PORT, 1, 65535);
    if (node != null) {
      host = host(node, host);
      port = node.integer("port", port, 1, 65535);
    }
    List<String> items = main.isSequence("members") ? main.list("members", List.of())
        : split(main.string("members", ""));
    List<Member> members = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      String item = items.get(i).strip();
      if (item.isEmpty()) {
        continue;
      }
      try {
        members.add(member(item));
      } catch (IllegalArgumentException e) {
        throw main.error("members", "item " + (i + 1) + " \"" + item + "\": " + e.getMessage());
      }
    }
    if (members.isEmpty()) {
      throw main.error("members", "at least one member host:port is needed (TCP-IP join; there is no multicast)");
    }
    main.rejectUnknown();
    if (node != null) {
      for (String key : node.keys()) {
        if (!key.equals("host") && !key.equals("port")) {
          throw node.error(key, key.equals("name") || key.equals("members")
              ? "the cluster's option: set it in postern.yaml, which every node shares"
              : "unknown option (node.yaml's cluster: takes host and port)");
        }
      }
    }
    return new ClusterSettings(name, host, port, List.copyOf(members));
  }

  private static String host(YamlSection s, String defaultValue) throws ConfigException {
    String host = s.string("host", defaultValue);
    if (!IpAddresses.isIpAddress(host)) {
      throw s.error("host", "expected this node's IP address, got \"" + host + "\"");
    }
    return host;
  }

  /**
   * Exim's list syntax for host:port items: {@code <;} (or another punctuation character after
   * {@code <}) changes the separator; with the default colon, only a colon with white space on both
   * sides separates, as the shipped example writes it ({@code "a:5701 : b:5701"}).
   */
  static List<String> split(String spec) {
    String s = spec.strip();
    if (s.isEmpty()) {
      return List.of();
    }
    if (s.length() > 1 && s.charAt(0) == '<' && !Character.isLetterOrDigit(s.charAt(1))
        && !Character.isWhitespace(s.charAt(1))) {
      String separator = String.valueOf(s.charAt(1));
      return List.of(s.substring(2).split(Pattern.quote(separator), -1));
    }
    return List.of(SPACED_COLON.split(s, -1));
  }

  /** {@code host:port}, {@code [v6]:port}, or a bare address (port 5701). */
  static Member member(String item) {
    String host;
    String port = null;
    if (item.startsWith("[")) {
      int close = item.indexOf(']');
      if (close < 0) {
        throw new IllegalArgumentException("missing ]");
      }
      host = item.substring(1, close);
      String rest = item.substring(close + 1);
      if (!rest.isEmpty()) {
        if (!rest.startsWith(":")) {
          throw new IllegalArgumentException("expected :port after ]");
        }
        port = rest.substring(1);
      }
    } else {
      int colon = item.lastIndexOf(':');
      if (colon >= 0 && item.indexOf(':') != colon) {
        throw new IllegalArgumentException("write an IPv6 member as [address]:port");
      }
      host = colon < 0 ? item : item.substring(0, colon);
      port = colon < 0 ? null : item.substring(colon + 1);
    }
    if (!IpAddresses.isIpAddress(host) && !host.matches("[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?")) {
      throw new IllegalArgumentException("not an IP address or host name: \"" + host + "\"");
    }
    int p = DEFAULT_PORT;
    if (port != null) {
      try {
        p = Integer.parseInt(port);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("not a port number: \"" + port + "\"");
      }
      if (p < 1 || p > 65535) {
        throw new IllegalArgumentException("port must be between 1 and 65535, got " + p);
      }
    }
    return new Member(host, p);
  }
}
