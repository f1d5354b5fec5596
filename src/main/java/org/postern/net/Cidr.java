package org.postern.net;

import java.util.Arrays;

/** An IP network: an address with an optional prefix length, {@code 192.0.2.0/24}, {@code 2001:db8::/32}. */
public final class Cidr {
  private final byte[] network;
  private final int prefix;

  private Cidr(byte[] network, int prefix) {
    this.network = network;
    this.prefix = prefix;
  }

  /**
   * The network {@code text} writes, a single address without {@code /prefix}; null if the text is
   * not IP-ish (a host name). Throws {@link IllegalArgumentException} for text that is IP-ish but
   * malformed.
   */
  public static Cidr parse(String text) {
    int slash = text.indexOf('/');
    String addr = slash < 0 ? text : text.substring(0, slash);
    byte[] ip = IpAddresses.parseRaw(addr);
    if (ip == null) {
      // Exim flags these too: "1.2.3" or "10.1/16" are almost always typos for a full address,
      // and silently treating them as host names would make the item never match.
      if (addr.indexOf(':') >= 0) {
        throw new IllegalArgumentException("malformed IPv6 address");
      }
      if (!addr.isEmpty() && addr.chars().allMatch(c -> c == '.' || (c >= '0' && c <= '9'))) {
        throw new IllegalArgumentException("malformed IPv4 address");
      }
      if (slash >= 0) {
        throw new IllegalArgumentException("a prefix length needs an IP address before '/'");
      }
      return null;
    }
    int bits = ip.length * 8;
    int prefix = bits;
    if (slash >= 0) {
      String p = text.substring(slash + 1);
      if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(c -> c >= '0' && c <= '9')) {
        throw new IllegalArgumentException("invalid prefix length \"" + p + "\"");
      }
      prefix = Integer.parseInt(p);
      if (prefix > bits) {
        throw new IllegalArgumentException(
            "prefix length " + prefix + " out of range 0-" + bits);
      }
    }
    if (ip.length == 16 && IpAddresses.isV4Mapped(ip) && prefix >= 96) {
      ip = IpAddresses.lastFour(ip);
      prefix -= 96;
    }
    return new Cidr(mask(ip, prefix), prefix);
  }

  /** True if {@code ip} (as {@link IpAddresses#parseIp} gives it; null for none) is in this network. */
  public boolean contains(byte[] ip) {
    return ip != null && ip.length == network.length && Arrays.equals(mask(ip, prefix), network);
  }

  private static byte[] mask(byte[] ip, int prefix) {
    byte[] out = ip.clone();
    for (int b = 0; b < out.length; b++) {
      int keep = Math.max(0, Math.min(8, prefix - b * 8));
      out[b] &= (byte) (0xff00 >> keep);
    }
    return out;
  }
}
