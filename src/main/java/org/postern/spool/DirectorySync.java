package org.postern.spool;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Group commit for directory fsyncs: a caller whose rename happened before a sync started is
 * covered by that sync, so concurrent commits share one {@code fsync} of the directory instead of
 * queueing one each. One instance per directory in the JVM ({@link #of}), so that every verticle
 * instance writing there (each listener's spool, the queue, the maildir transport) shares it.
 * Blocking; call from a worker thread.
 */
public final class DirectorySync {
  private static final java.util.concurrent.ConcurrentMap<Path, DirectorySync> SHARED =
      new java.util.concurrent.ConcurrentHashMap<>();
  private final Path directory;
  private final Object counters = new Object();
  private final Object syncing = new Object();
  private long requested;
  private long completed;

  private DirectorySync(Path directory) {
    this.directory = directory;
  }

  /** The group commit of {@code directory}, shared by every caller in this JVM. */
  public static DirectorySync of(Path directory) {
    Path key = directory.toAbsolutePath().normalize();
    return SHARED.computeIfAbsent(key, DirectorySync::new);
  }

  /** Returns once every directory change this thread made before the call is durable. */
  public void sync() throws IOException {
    long ticket;
    synchronized (counters) {
      ticket = ++requested;
    }
    synchronized (syncing) {
      long target;
      synchronized (counters) {
        if (completed >= ticket) {
          return;
        }
        target = requested;
      }
      force(directory);
      synchronized (counters) {
        completed = Math.max(completed, target);
      }
    }
  }

  /** One fsync of {@code directory} now, for a caller with no concurrent commits to share it with. */
  public static void force(Path directory) throws IOException {
    try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
      dir.force(true);
    }
  }
}
