package org.postern.spool;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;

import java.nio.ByteBuffer;

/**
 * A message's bytes in memory, seen as a {@link ByteBuffer} for a {@code FileChannel} write without
 * copying them first: {@code Buffer.getBytes()} made a second copy of every message on its way to
 * the spool or a maildir (the channel copies heap bytes into its own direct buffer anyway). Vert.x 5
 * keeps the {@code ByteBuf} behind a {@link Buffer} in its internal API ({@link BufferInternal});
 * the view shares the buffer's bytes, so the buffer must not change while the view is in use.
 */
public final class ContentView {
  private ContentView() {
  }

  /** A read-only view of {@code content}'s bytes, from its first to its last, position 0. */
  public static ByteBuffer of(Buffer content) {
    return ((BufferInternal) content).getByteBuf().nioBuffer().asReadOnlyBuffer();
  }
}
