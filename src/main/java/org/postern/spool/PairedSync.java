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
 * the caller syncs both itself, one after the other, so this never waits for a thread. That pays
 * when few messages are committed at once (one session: its latency is the fsyncs); with more in
 * flight, concurrent sessions already share the journal commits and the hand-off only costs CPU
 * (persist c=50: 0.44 to 0.50 ms per message), so then the caller syncs both itself. Blocking.
 */
final class PairedSync {
  /** Up to this many commits in flight, the second sync goes to a helper. */
  static final int PAIR_BELOW = 3;
  private static final java.util.concurrent.atomic.AtomicInteger IN_FLIGHT = new java.util.concurrent.atomic.AtomicInteger();
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
    try {
      if (IN_FLIGHT.incrementAndGet() > PAIR_BELOW) {
        first.force(false);
        second.force(false);
      } else {
        together(first, second);
      }
    } finally {
      IN_FLIGHT.decrementAndGet();
    }
  }

  private static void together(FileChannel first, FileChannel second) throws IOException {
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
