package org.postern.acl;

/**
 * One value a DNS list entry may have, after {@code =} or {@code !=}: an IPv4 address whose
 * octets are numbers or ranges, {@code 127.0.0.2} or {@code 127.0.[0..255].[1..3]}.
 */
record DnsListValuePattern(int[] low, int[] high, String source) {

  static DnsListValuePattern parse(String text) {
    String t = text.strip();
    String[] parts = t.split("\\.", -1);
    if (parts.length != 4) {
      throw new IllegalArgumentException("\"" + t + "\" is not an IPv4 address or octet range pattern");
    }
    int[] low = new int[4];
    int[] high = new int[4];
    for (int i = 0; i < 4; i++) {
      String p = parts[i];
      if (p.startsWith("[") && p.endsWith("]") && p.contains("..")) {
        String[] bounds = p.substring(1, p.length() - 1).split("\\.\\.", -1);
        low[i] = octet(bounds[0], t);
        high[i] = octet(bounds.length == 2 ? bounds[1] : "", t);
        if (low[i] > high[i]) {
          throw new IllegalArgumentException("empty octet range " + p + " in \"" + t + "\"");
        }
      } else {
        low[i] = octet(p, t);
        high[i] = low[i];
      }
    }
    return new DnsListValuePattern(low, high, t);
  }

  private static int octet(String digits, String whole) {
    if (!digits.matches("\\d{1,3}") || Integer.parseInt(digits) > 255) {
      throw new IllegalArgumentException("\"" + whole + "\" is not an IPv4 address or octet range pattern");
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
