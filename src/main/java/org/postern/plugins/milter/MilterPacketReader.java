package org.postern.plugins.milter;

import io.vertx.core.buffer.Buffer;

import java.util.ArrayDeque;
import java.util.Queue;

/**
 * Frames the bytes a milter sends into packets. A length of 0 (no reply byte) or above
 * {@link MilterCodes#MAX_PACKET} is a protocol error, found before the packet is buffered, so a
 * hostile length cannot make Postern allocate it.
 */
final class MilterPacketReader {
  private Buffer pending = Buffer.buffer();
  private final Queue<MilterPacket> ready = new ArrayDeque<>();

  /** Adds received bytes; throws at the first impossible length. */
  void add(Buffer bytes) throws MilterProtocolException {
    pending.appendBuffer(bytes);
    int pos = 0;
    while (pending.length() - pos >= 4) {
      int length = pending.getInt(pos);
      if (length < 1 || length > MilterCodes.MAX_PACKET) {
        throw new MilterProtocolException("reply packet of impossible length " + Integer.toUnsignedString(length));
      }
      if (pending.length() - pos - 4 < length) {
        break;
      }
      byte code = pending.getByte(pos + 4);
      ready.add(new MilterPacket(code, pending.getBuffer(pos + 5, pos + 4 + length)));
      pos += 4 + length;
    }
    if (pos > 0) {
      pending = pending.getBuffer(pos, pending.length());
    }
  }

  /** The next complete packet, or null. */
  MilterPacket next() {
    return ready.poll();
  }
}
