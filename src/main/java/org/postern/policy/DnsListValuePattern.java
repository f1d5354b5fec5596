package org.postern.policy;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One value a DNS list entry may have, after {@code =} or {@code !=}: an IPv4 address whose
 * octets are numbers or ranges, {@code 127.0.0.2} or {@code 127.0.[0..255].[1..3]}.
 */
record DnsListValuePattern(int[] low, int[] high, String source) {

  private static final Pattern OCTET = Pattern.compile("(\\d{1,3})|\\[(\\d{1,3})\\.\\.(\\d{1,3})\\]");

  static DnsListValuePattern parse(String text) {
    String t = text.strip();
    int[] low = new int[4];
    int[] high = new int[4];
    Matcher m = OCTET.matcher(t);
    int pos = 0;
    for (int i = 0; i < 4; i++) {
      if (i > 0) {
        if (pos >= t.length() || t.charAt(pos) != '.') {
          throw notAPattern(t);
        }
        pos++;
      }
      if (!m.find(pos) || m.start() != pos) {
        throw notAPattern(t);
      }
      if (m.group(1) != null) {
        low[i] = octet(m.group(1), t);
        high[i] = low[i];
      } else {
        low[i] = octet(m.group(2), t);
        high[i] = octet(m.group(3), t);
        if (low[i] > high[i]) {
          throw new IllegalArgumentException("empty octet range " + m.group() + " in \"" + t + "\"");
        }
      }
      pos = m.end();
    }
    if (pos != t.length()) {
      throw notAPattern(t);
    }
    return new DnsListValuePattern(low, high, t);
  }

  private static IllegalArgumentException notAPattern(String t) {
    return new IllegalArgumentException("\"" + t + "\" is not an IPv4 address or octet range pattern");
  }

  private static int octet(String digits, String whole) {
    if (Integer.parseInt(digits) > 255) {
      throw notAPattern(whole);
    }
    return Integer.parseInt(digits);
  }

  /** True for a dotted-quad {@code address} inside every octet's range; false for anything else. */
  boolean matches(String address) {
    String[] parts = address.split("\\.", -1);
    if (parts.length != 4) {
      return false;
    }
    for (int i = 0; i < 4; i++) {
      if (!parts[i].matches("\\d{1,3}")) {
        return false;
      }
      int v = Integer.parseInt(parts[i]);
      if (v < low[i] || v > high[i]) {
        return false;
      }
    }
    return true;
  }
}
