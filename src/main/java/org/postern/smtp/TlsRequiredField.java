package org.postern.smtp;

/**
 * RFC 8689 5: does a header section carry {@code TLS-Required: No}? The grammar is
 * {@code "TLS-Required:" [FWS] "No" CRLF}; ABNF strings are case-insensitive (RFC 5234 2.3), so the
 * name and {@code No} match in any case, and the value may follow folding white space. Trailing
 * white space before the line end is tolerated; a comment or any other text after {@code No} is
 * not the field's value, and the field then asks for nothing. The field "MUST NOT appear more than
 * once": Postern honours it only when it appears exactly once, so a message that is unclear about
 * what it asks for keeps the transport's TLS policy (the safe reading).
 */
public final class TlsRequiredField {
  private static final String NAME = "tls-required:";

  private TlsRequiredField() {
  }

  /** True when the header section (up to its blank line; CRLF or LF line ends) holds exactly one {@code TLS-Required: No}. */
  public static boolean saysNo(String headerSection) {
    if (headerSection == null || headerSection.isEmpty() || !mentionsField(headerSection)) {
      return false;
    }
    String[] lines = headerSection.split("\r?\n", -1);
    int fields = 0;
    boolean no = false;
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i];
      if (line.isEmpty()) {
        break;
      }
      if (line.length() < NAME.length() || !line.regionMatches(true, 0, NAME, 0, NAME.length())) {
        continue;
      }
      fields++;
      StringBuilder value = new StringBuilder(line.substring(NAME.length()));
      for (int j = i + 1; j < lines.length && !lines[j].isEmpty()
          && (lines[j].charAt(0) == ' ' || lines[j].charAt(0) == '\t'); j++) {
        // Unfolding (RFC 5322 2.2.3) removes the line break only; the white space stays.
        value.append(lines[j]);
      }
      no = isNo(value.toString());
    }
    return fields == 1 && no;
  }

  /**
   * Does any line start with the field's name? Nearly no message has the field, and splitting
   * every message's header section into lines to find that out was a cost per message.
   */
  private static boolean mentionsField(String headerSection) {
    int n = headerSection.length();
    for (int at = 0; at < n; ) {
      if (headerSection.regionMatches(true, at, NAME, 0, NAME.length())) {
        return true;
      }
      int lf = headerSection.indexOf('\n', at);
      if (lf < 0) {
        return false;
      }
      at = lf + 1;
    }
    return false;
  }

  /** [FWS] "No", then at most white space. */
  private static boolean isNo(String value) {
    String v = stripWsp(value);
    return v.equalsIgnoreCase("no");
  }

  private static String stripWsp(String s) {
    int start = 0;
    int end = s.length();
    while (start < end && (s.charAt(start) == ' ' || s.charAt(start) == '\t')) {
      start++;
    }
    while (end > start && (s.charAt(end - 1) == ' ' || s.charAt(end - 1) == '\t')) {
      end--;
    }
    return s.substring(start, end);
  }
}
