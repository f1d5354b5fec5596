package org.postern.delivery.smtp;

import io.vertx.core.buffer.Buffer;

/**
 * Dot-stuffs message data chunk by chunk (RFC 5321 4.5.2): a line starting with '.' gets one more.
 * Keeps the line-start state across chunks, so the data can be streamed in pieces of any size;
 * {@link #terminator()} ends the data with CRLF.CRLF, adding the CRLF a final line may lack.
 */
final class DotStuffer {
  private boolean lineStart = true;
  private byte last = '\n';

  /** The chunk, stuffed; the same buffer when nothing needed stuffing. */
  Buffer stuff(Buffer chunk) {
    Buffer out = null;
    int copied = 0;
    int n = chunk.length();
    for (int i = 0; i < n; i++) {
      byte b = chunk.getByte(i);
      if (lineStart && b == '.') {
        if (out == null) {
          out = Buffer.buffer(n + 16);
        }
        out.appendBuffer(chunk, copied, i - copied).appendByte((byte) '.');
        copied = i;
      }
      lineStart = b == '\n';
      last = b;
    }
    if (out == null) {
      return chunk;
    }
    return out.appendBuffer(chunk, copied, n - copied);
  }

  /** CRLF.CRLF, preceded by the missing line end when the data did not end with one. */
  Buffer terminator() {
    if (last == '\n') {
      return Buffer.buffer(".\r\n");
    }
    if (last == '\r') {
      return Buffer.buffer("\n.\r\n");
    }
    return Buffer.buffer("\r\n.\r\n");
  }
}
