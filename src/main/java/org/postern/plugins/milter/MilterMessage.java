package org.postern.plugins.milter;

import io.vertx.core.buffer.Buffer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A spooled message as milters see and change it: the header fields in order (name, and the raw
 * value after the colon with its folding) and the body. The milters' header and body changes are
 * applied here; {@link #bytes()} is the message to write back into the spool, CRLF throughout.
 */
final class MilterMessage {
  /** One header field: the name, and everything after the colon up to the final CRLF (continuations included). */
  record Header(String name, String value) {
  }

  private final List<Header> headers;
  /**
   * Postern's own Received: header, the first of the file. As Sendmail and Postfix do, milters do
   * not see it, and a header change counts the headers without it, while an insert counts it (so
   * OpenDKIM's signature, inserted at 0, goes above it).
   */
  private final Header own;
  private Buffer body;
  private Buffer newBody;
  private boolean changed;

  private MilterMessage(List<Header> headers, Buffer body) {
    this.headers = headers;
    this.own = headers.isEmpty() ? null : headers.get(0);
    this.body = body;
  }

  /** Parses the data file's content: header fields up to the first empty line, then the body. */
  static MilterMessage parse(Buffer content) {
    byte[] b = content.getBytes();
    List<Header> headers = new ArrayList<>();
    int pos = 0;
    StringBuilder current = null;
    String name = null;
    while (pos < b.length) {
      int eol = indexOfCrlf(b, pos);
      int lineEnd = eol < 0 ? b.length : eol;
      if (lineEnd == pos) {
        pos = eol < 0 ? b.length : eol + 2;
        break;
      }
      String line = new String(b, pos, lineEnd - pos, StandardCharsets.UTF_8);
      boolean continuation = line.charAt(0) == ' ' || line.charAt(0) == '\t';
      int colon = line.indexOf(':');
      if (continuation && current != null) {
        current.append("\r\n").append(line);
      } else if (!continuation && colon > 0) {
        if (name != null) {
          headers.add(new Header(name, current.toString()));
        }
        name = line.substring(0, colon);
        current = new StringBuilder(line.substring(colon + 1));
      } else {
        // Not a header line: the body starts here (RFC 5322 has no such message; keep its bytes).
        break;
      }
      pos = eol < 0 ? b.length : eol + 2;
    }
    if (name != null) {
      headers.add(new Header(name, current.toString()));
    }
    return new MilterMessage(headers, Buffer.buffer(java.util.Arrays.copyOfRange(b, pos, b.length)));
  }

  private static int indexOfCrlf(byte[] b, int from) {
    for (int i = from; i + 1 < b.length; i++) {
      if (b[i] == '\r' && b[i + 1] == '\n') {
        return i;
      }
    }
    return -1;
  }

  /** The headers a milter is shown: all but Postern's own Received:. */
  List<Header> visibleHeaders() {
    return headers.stream().filter(h -> h != own).toList();
  }

  Buffer body() {
    return body;
  }

  /** True once a milter changed a header or the body: the spool file must be rewritten. */
  boolean changed() {
    return changed;
  }

  /** SMFIR_ADDHEADER: at the end of the header section. */
  void add(String name, String value) {
    headers.add(new Header(name, value));
    changed = true;
  }

  /** SMFIR_INSHEADER: before the header at {@code index} (0 = first); past the end, at the end. */
  void insert(int index, String name, String value) {
    headers.add(Math.max(0, Math.min(index, headers.size())), new Header(name, value));
    changed = true;
  }

  /**
   * SMFIR_CHGHEADER: the {@code index}-th (from 1; 0 counts as 1, as in Postfix) header of that name
   * among those the milter saw gets the value, or is deleted when the value is empty; when there is
   * no such header, a non-empty value is added (as Sendmail does).
   */
  void change(int index, String name, String value) {
    int seen = 0;
    for (int i = 0; i < headers.size(); i++) {
      if (headers.get(i) != own && headers.get(i).name().equalsIgnoreCase(name) && ++seen == Math.max(index, 1)) {
        if (value.isBlank()) {
          headers.remove(i);
        } else {
          headers.set(i, new Header(headers.get(i).name(), value));
        }
        changed = true;
        return;
      }
    }
    if (!value.isBlank()) {
      add(name, value);
    }
  }

  /** SMFIR_REPLBODY: one chunk of the new body; the chunks of one end-of-message replace the body. */
  void replaceBodyChunk(Buffer chunk) {
    if (newBody == null) {
      newBody = Buffer.buffer();
    }
    newBody.appendBuffer(chunk);
    changed = true;
  }

  /** Ends one milter's end of message: its new body, if it sent one, becomes the body (CRLF line ends). */
  void endOfMessage() {
    if (newBody != null) {
      body = crlf(newBody);
      newBody = null;
    }
  }

  /** Milters write line ends as LF (libmilter's convention) or CRLF; the spool holds CRLF only. */
  static Buffer crlf(Buffer in) {
    Buffer out = Buffer.buffer(in.length() + in.length() / 32);
    byte prev = 0;
    for (int i = 0; i < in.length(); i++) {
      byte c = in.getByte(i);
      if (c == '\n' && prev != '\r') {
        out.appendByte((byte) '\r');
      }
      if (prev == '\r' && c != '\n') {
        out.appendByte((byte) '\n');
      }
      out.appendByte(c);
      prev = c;
    }
    if (prev == '\r') {
      out.appendByte((byte) '\n');
    }
    return out;
  }

  /** A header value from a milter as it goes into the message: CRLF folding, and the space after the colon. */
  static String headerValue(String value, boolean leadingSpace) {
    String v = crlf(Buffer.buffer(value, "UTF-8")).toString(StandardCharsets.UTF_8);
    return leadingSpace ? v : " " + v;
  }

  /** The message as it is now. */
  Buffer bytes() {
    Buffer out = Buffer.buffer(body.length() + 64 * headers.size() + 2);
    for (Header h : headers) {
      out.appendString(h.name(), "UTF-8").appendByte((byte) ':').appendString(h.value(), "UTF-8").appendString("\r\n");
    }
    out.appendString("\r\n").appendBuffer(body);
    return out;
  }

  /**
   * The value as a milter expects it: folded with LF (as Sendmail sends it); without HDR_LEADSPC,
   * without the one space (not a tab) after the colon that Sendmail eats.
   */
  static String forMilter(Header h, boolean leadingSpace) {
    String v = h.value().replace("\r\n", "\n");
    return !leadingSpace && v.startsWith(" ") ? v.substring(1) : v;
  }
}
