package org.postern.plugins.milter;

import io.vertx.core.buffer.Buffer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * One milter packet: a 32-bit big-endian length (of what follows), a command or reply byte, and
 * its data, whose strings are NUL-terminated.
 */
record MilterPacket(byte code, Buffer data) {

  static MilterPacket of(byte code) {
    return new MilterPacket(code, Buffer.buffer(0));
  }

  /** A packet whose data is the given strings, each NUL-terminated. */
  static MilterPacket strings(byte code, String... parts) {
    Buffer b = Buffer.buffer();
    for (String p : parts) {
      b.appendBytes(p.getBytes(StandardCharsets.UTF_8)).appendByte((byte) 0);
    }
    return new MilterPacket(code, b);
  }

  Buffer encode() {
    return Buffer.buffer(5 + data.length()).appendInt(1 + data.length()).appendByte(code).appendBuffer(data);
  }

  /**
   * The NUL-terminated strings of the data from {@code offset}; a last string without its NUL is
   * malformed.
   */
  List<String> stringsFrom(int offset) throws MilterProtocolException {
    List<String> out = new ArrayList<>();
    int start = offset;
    for (int i = offset; i < data.length(); i++) {
      if (data.getByte(i) == 0) {
        out.add(data.getString(start, i, StandardCharsets.UTF_8.name()));
        start = i + 1;
      }
    }
    if (start != data.length()) {
      throw new MilterProtocolException("reply '" + (char) code + "' has a string without its NUL terminator");
    }
    return out;
  }

  /** A 32-bit integer of the data at {@code offset}, or a protocol error when the data is too short. */
  int intAt(int offset) throws MilterProtocolException {
    if (data.length() < offset + 4) {
      throw new MilterProtocolException("reply '" + (char) code + "' is too short (" + data.length() + " bytes)");
    }
    return data.getInt(offset);
  }
}
