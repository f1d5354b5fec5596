package org.postern.spool;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Writes a whole file and fsyncs its content before returning, the first step of every durable
 * spool write (envelopes, bounces, retry records); the caller renames it into place or syncs the
 * directory as its own commit requires. Blocking.
 */
public final class DurableFile {
  private DurableFile() {
  }

  /**
   * Writes {@code bytes} to {@code file} and forces them to disk.
   *
   * @param mustBeNew fail if the file exists (a new message's content); otherwise it is created or
   *                  truncated (a temporary file about to be renamed over the real one)
   */
  public static void write(Path file, byte[] bytes, boolean mustBeNew) throws IOException {
    try (FileChannel ch = mustBeNew
        ? FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)
        : FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer buf = ByteBuffer.wrap(bytes);
      while (buf.hasRemaining()) {
        ch.write(buf);
      }
      ch.force(false);
    }
  }
}
