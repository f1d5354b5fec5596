package org.postern.net;

import java.util.ArrayList;
import java.util.List;

/**
 * Textual IPv4 and IPv6 addresses. Hand-written so that nothing here can ever trigger a DNS lookup
 * ({@code InetAddress.getByName} falls back to DNS for anything it does not recognise as a
 * literal), and so that legacy forms such as "127.1" or octal/hex parts are rejected rather than
 * silently reinterpreted.
 */
public final class IpAddresses {
  private IpAddresses() {
  }


  /** True for a literal IPv4 or IPv6 address (no DNS is ever consulted). */
  public static boolean isIpAddress(String text) {
    return text != null && parseIp(text) != null;
  }

  /**
   * Parses a textual IPv4 or IPv6 address (no brackets, no zone, no prefix) into 4 or 16 bytes,
   * mapping IPv4-mapped IPv6 addresses to their 4-byte form; null if the text is not an address.
   */
  public static byte[] parseIp(String text) {
    byte[] ip = parseRaw(text);
    return ip == null ? null : normalize(ip);
  }

  /** Maps an IPv4-mapped IPv6 address (16 bytes) to its IPv4 form; other addresses unchanged. */
  public static byte[] normalize(byte[] ip) {
    return ip.length == 16 && isV4Mapped(ip) ? lastFour(ip) : ip;
  }

  /** As {@link #parseIp}, without mapping IPv4-mapped IPv6 addresses to 4 bytes. */
  static byte[] parseRaw(String text) {
    return text.indexOf(':') >= 0 ? parseIpv6(text) : parseIpv4(text);
  }

  static boolean isV4Mapped(byte[] ip) {
    for (int k = 0; k < 10; k++) {
      if (ip[k] != 0) {
        return false;
      }
    }
    return ip[10] == (byte) 0xff && ip[11] == (byte) 0xff;
  }

  static byte[] lastFour(byte[] ip) {
    return new byte[] {ip[12], ip[13], ip[14], ip[15]};
  }

  private static byte[] parseIpv4(String text) {
    // By hand, not split and streams: host lists parse the client's address on every match.
    byte[] out = new byte[4];
    int part = 0;
    int value = 0;
    int digits = 0;
    for (int i = 0; i <= text.length(); i++) {
      char c = i < text.length() ? text.charAt(i) : '.';
      if (c >= '0' && c <= '9') {
        value = value * 10 + (c - '0');
        if (++digits > 3 || value > 255) {
          return null;
        }
      } else if (c == '.' && digits > 0 && part < 4) {
        out[part++] = (byte) value;
        value = 0;
        digits = 0;
      } else {
        return null;
      }
    }
    return part == 4 ? out : null;
  }

  private static byte[] parseIpv6(String text) {
    int dc = text.indexOf("::");
    if (dc >= 0 && text.indexOf("::", dc + 1) >= 0) {
      return null;
    }
    List<Integer> head;
    List<Integer> tail;
    if (dc < 0) {
      head = parseGroups(text, true);
      tail = List.of();
      if (head == null || head.size() != 8) {
        return null;
      }
    } else {
      String h = text.substring(0, dc);
      String t = text.substring(dc + 2);
      head = h.isEmpty() ? List.of() : parseGroups(h, false);
      tail = t.isEmpty() ? List.of() : parseGroups(t, true);
      // "::" stands for at least one group of zeros.
      if (head == null || tail == null || head.size() + tail.size() > 7) {
        return null;
      }
    }
    byte[] out = new byte[16];
    for (int k = 0; k < head.size(); k++) {
      out[2 * k] = (byte) (head.get(k) >> 8);
      out[2 * k + 1] = (byte) (int) head.get(k);
    }
    int offset = 8 - tail.size();
    for (int k = 0; k < tail.size(); k++) {
      out[2 * (offset + k)] = (byte) (tail.get(k) >> 8);
      out[2 * (offset + k) + 1] = (byte) (int) tail.get(k);
    }
    return out;
  }

  /** 16-bit groups of a colon-separated run (an IPv4 tail counts as two), or null. */
  private static List<Integer> parseGroups(String text, boolean ipv4TailAllowed) {
    String[] parts = text.split(":", -1);
    List<Integer> groups = new ArrayList<>(8);
    for (int k = 0; k < parts.length; k++) {
      String p = parts[k];
      if (k == parts.length - 1 && ipv4TailAllowed && p.indexOf('.') >= 0) {
        byte[] v4 = parseIpv4(p);
        if (v4 == null) {
          return null;
        }
        groups.add(((v4[0] & 0xff) << 8) | (v4[1] & 0xff));
        groups.add(((v4[2] & 0xff) << 8) | (v4[3] & 0xff));
        continue;
      }
      if (p.isEmpty() || p.length() > 4) {
        return null;
      }
      int v = 0;
      for (int m = 0; m < p.length(); m++) {
        int d = Character.digit(p.charAt(m), 16);
        // Character.digit accepts non-ASCII digits; only ASCII hex is valid here.
        if (d < 0 || p.charAt(m) > 'f') {
          return null;
        }
        v = (v << 4) | d;
      }
      groups.add(v);
    }
    return groups.size() > 8 ? null : groups;
  }
}
