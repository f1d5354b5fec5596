package org.postern.listener;

import io.vertx.core.buffer.Buffer;

import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Keeps the header section of a message as it streams past (up to the first empty line, at most
 * {@link #MAX} bytes), so that header facts such as the Message-ID reach the log without a
 * second read of the spool file, and counts its {@code Received:} fields (all of them, however
 * long the section) for the mail-loop check.
 */
final class HeaderSection {
  static final int MAX = 64 * 1024;
  private static final byte[] RECEIVED = "received:".getBytes(StandardCharsets.US_ASCII);
  private Buffer headers = Buffer.buffer(1024);
  private boolean complete;
  private int received;
  /** The empty line that ends the section has been seen: no field follows. */
  private boolean ended;
  /** Bytes of the current line, CRs aside; 0 at the start of a line. */
  private int lineLength;
  /** How much of "received:" the current line starts with; -1 once it cannot be that field. */
  private int matched;

  void add(Buffer chunk) {
    countReceived(chunk);
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

  /** Received: fields in the header section (a folded line starts with a space, so never counts). */
  int received() {
    return received;
  }

  private void countReceived(Buffer chunk) {
    for (int i = 0; i < chunk.length() && !ended; i++) {
      byte b = chunk.getByte(i);
      if (b == '\n') {
        ended = lineLength == 0;
        lineLength = 0;
        matched = 0;
      } else if (b != '\r') {
        if (matched >= 0) {
          byte lower = b >= 'A' && b <= 'Z' ? (byte) (b + ('a' - 'A')) : b;
          matched = lower == RECEIVED[matched] ? matched + 1 : -1;
          if (matched == RECEIVED.length) {
            received++;
            matched = -1;
          }
        }
        lineLength++;
      }
    }
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
