package org.postern.spool;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Syncs two files at once, a message's content and its envelope: two {@code fdatasync} calls in
 * flight together let ext4 (and XFS) commit both in one journal transaction and one cache flush,
 * where one after the other costs two. The second file goes to a helper thread; when none is free,
 * the caller syncs both itself, one after the other, so this never waits for a thread. Blocking.
 */
final class PairedSync {
  private static final ThreadPoolExecutor HELPERS = new ThreadPoolExecutor(0, 64, 30, TimeUnit.SECONDS,
      new SynchronousQueue<>(), runnable -> {
        Thread t = new Thread(runnable, "postern-spool-sync");
        t.setDaemon(true);
        return t;
      }, new ThreadPoolExecutor.CallerRunsPolicy());

  private PairedSync() {
  }

  /** Returns once the content of both files is on disk. */
  static void force(FileChannel first, FileChannel second) throws IOException {
    Future<?> other = HELPERS.submit(() -> {
      try {
        second.force(false);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
    first.force(false);
    try {
      other.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof UncheckedIOException io) {
        throw io.getCause();
      }
      throw new IOException("sync of " + second + " failed", e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while syncing", e);
    }
  }
}
