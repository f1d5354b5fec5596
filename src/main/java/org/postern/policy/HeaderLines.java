package org.postern.policy;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Turns an expanded {@code add_header} text into header lines that cannot break the message:
 * as in Exim, the text may hold several headers separated by newlines, a line that starts with
 * white space continues the previous header, and a line that does not look like a header is
 * given an {@code X-ACL-Warn:} name. Control characters never reach the message, so an
 * expansion of client-supplied data cannot inject a header or end the header section.
 */
final class HeaderLines {
  private static final Pattern HEADER = Pattern.compile("[!-9;-~]+:.*");
  /** RFC 5322 2.1.1: 998 octets per line; longer ones are cut rather than refused. */
  private static final int MAX_LINE = 998;

  private HeaderLines() {
  }

  static List<String> sanitize(String text) {
    List<String> out = new ArrayList<>();
    if (text == null) {
      return out;
    }
    for (String raw : text.split("\r\n|\r|\n")) {
      String line = raw.replaceAll("[\\x00-\\x08\\x0a-\\x1f\\x7f]", "");
      if (line.isBlank()) {
        continue;
      }
      boolean continuation = line.charAt(0) == ' ' || line.charAt(0) == '\t';
      if (continuation && !out.isEmpty()) {
        out.add("\t" + line.strip());
      } else {
        String stripped = line.strip();
        out.add(HEADER.matcher(stripped).matches() ? stripped : "X-ACL-Warn: " + stripped);
      }
    }
    out.replaceAll(line -> line.length() > MAX_LINE ? line.substring(0, MAX_LINE) : line);
    return out;
  }
}
