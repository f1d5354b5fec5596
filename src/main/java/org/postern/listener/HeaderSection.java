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
  /** {@link #text()} once made, until more header bytes arrive. */
  private String text;

  void add(Buffer chunk) {
    countReceived(chunk);
    if (complete) {
      return;
    }
    text = null;
    int start = headers.length();
    int take = Math.min(MAX - start, chunk.length());
    if (start == 0 && take > 0 && (chunk.getByte(0) == '\n' || chunk.getByte(0) == '\r')) {
      complete = true;
      return;
    }
    // Find the blank line before copying anything: only the header section is kept, so the body
    // bytes of the chunk (most of a message) are not copied in and cut off again. The blank line
    // may straddle two chunks: start a little before the new bytes.
    int end = start + take;
    for (int i = Math.max(0, start - 2); i < end - 1; i++) {
      if (byteAt(chunk, start, i) != '\n') {
        continue;
      }
      byte next = byteAt(chunk, start, i + 1);
      if (next == '\n' || (next == '\r' && i + 2 < end && byteAt(chunk, start, i + 2) == '\n')) {
        if (i + 1 <= start) {
          headers = headers.getBuffer(0, i + 1);
        } else {
          headers.appendBuffer(chunk, 0, i + 1 - start);
        }
        complete = true;
        return;
      }
    }
    headers.appendBuffer(chunk, 0, take);
    complete = headers.length() >= MAX;
  }

  /** The byte at {@code i} of the section kept so far followed by {@code chunk} (which starts at {@code start}). */
  private byte byteAt(Buffer chunk, int start, int i) {
    return i < start ? headers.getByte(i) : chunk.getByte(i - start);
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
    if (text == null) {
      text = headers.toString(StandardCharsets.ISO_8859_1);
    }
    return text;
  }

  /**
   * The value of the first header with this name (unfolded, trimmed), or null. Lines end at LF
   * with an optional CR before it; a continuation line starts with a space or a tab (RFC 5322
   * 2.2.3). Scans the text in place rather than splitting it into lines.
   */
  String value(String name) {
    String s = text();
    int n = s.length();
    int prefix = name.length() + 1;
    for (int at = 0; at < n; at = nextLine(s, at)) {
      if (s.regionMatches(true, at, name, 0, name.length()) && at + name.length() < n
          && s.charAt(at + name.length()) == ':') {
        StringBuilder v = new StringBuilder(s.substring(at + prefix, lineEnd(s, at)));
        for (int j = nextLine(s, at); j < n; j = nextLine(s, j)) {
          int e = lineEnd(s, j);
          if (e == j || (s.charAt(j) != ' ' && s.charAt(j) != '\t')) {
            break;
          }
          v.append(' ').append(s.substring(j, e).strip());
        }
        return v.toString().strip();
      }
    }
    return null;
  }

  /** Where the line starting at {@code at} ends, before its CRLF or LF (or at the end of the text). */
  private static int lineEnd(String s, int at) {
    int lf = s.indexOf('\n', at);
    int e = lf < 0 ? s.length() : lf;
    return lf > at && s.charAt(lf - 1) == '\r' ? e - 1 : e;
  }

  /** The start of the line after the one starting at {@code at}, or the text's length. */
  private static int nextLine(String s, int at) {
    int lf = s.indexOf('\n', at);
    return lf < 0 ? s.length() : lf + 1;
  }
}
