package org.postern.listener;

import io.vertx.core.buffer.Buffer;

import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Keeps the header section of a message as it streams past (up to the first empty line, at most
 * {@link #MAX} bytes), so that header facts such as the Message-ID reach the log without a
 * second read of the spool file.
 */
final class HeaderSection {
  static final int MAX = 64 * 1024;
  private Buffer headers = Buffer.buffer(1024);
  private boolean complete;

  void add(Buffer chunk) {
    if (complete) {
      return;
    }
    int start = headers.length();
    headers.appendBuffer(chunk, 0, Math.min(MAX - start, chunk.length()));
    if (start == 0 && headers.length() > 0 && (headers.getByte(0) == '\n' || headers.getByte(0) == '\r')) {
      complete = true;
      headers = Buffer.buffer();
      return;
    }
    // The blank line may straddle two chunks: start a little before the new bytes.
    for (int i = Math.max(0, start - 2); i < headers.length() - 1; i++) {
      if (headers.getByte(i) != '\n') {
        continue;
      }
      byte next = headers.getByte(i + 1);
      if (next == '\n' || (next == '\r' && i + 2 < headers.length() && headers.getByte(i + 2) == '\n')) {
        headers = headers.getBuffer(0, i + 1);
        complete = true;
        return;
      }
    }
    complete = headers.length() >= MAX;
  }

  /** The header section seen so far (at most {@link #MAX} bytes), for header checks in the data ACL. */
  String text() {
    return headers.toString(StandardCharsets.ISO_8859_1);
  }

  /** The value of the first header with this name (unfolded, trimmed), or null. */
  String value(String name) {
    String text = headers.toString(StandardCharsets.ISO_8859_1);
    String prefix = name.toLowerCase(Locale.ROOT) + ":";
    String[] lines = text.split("\r?\n", -1);
    for (int i = 0; i < lines.length; i++) {
      if (lines[i].toLowerCase(Locale.ROOT).startsWith(prefix)) {
        StringBuilder v = new StringBuilder(lines[i].substring(prefix.length()));
        for (int j = i + 1; j < lines.length && !lines[j].isEmpty()
            && (lines[j].charAt(0) == ' ' || lines[j].charAt(0) == '\t'); j++) {
          v.append(' ').append(lines[j].strip());
        }
        return v.toString().strip();
      }
    }
    return null;
  }
}
