package org.postern.spool;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One round of syncs: a commit's {@code fdatasync}s and directory {@code fsync} in flight together,
 * so that ext4 (and XFS) commit them in one journal transaction and one cache flush, where one
 * after the other costs one each. All but the first go to helper threads; when none is free, the
 * caller runs them itself, one after the other, so this never waits for a thread. That pays when
 * few messages are committed at once (one session: its latency is the syncs); with more in flight,
 * concurrent sessions already share the journal commits and the hand-offs only cost CPU (persist
 * c=50: 0.44 to 0.50 ms per message), so then the caller runs them all itself. Blocking.
 */
final class SyncRound {
  /** Up to this many rounds in flight, the syncs go to helpers. */
  static final int TOGETHER_BELOW = 3;
  private static final AtomicInteger IN_FLIGHT = new AtomicInteger();
  private static final ThreadPoolExecutor HELPERS = new ThreadPoolExecutor(0, 64, 30, TimeUnit.SECONDS,
      new SynchronousQueue<>(), runnable -> {
        Thread t = new Thread(runnable, "postern-spool-sync");
        t.setDaemon(true);
        return t;
      }, new ThreadPoolExecutor.CallerRunsPolicy());

  /** One sync. */
  @FunctionalInterface
  interface Sync {
    void run() throws IOException;
  }

  private SyncRound() {
  }

  /**
   * Returns once every one of {@code syncs} has returned; when any failed, throws (the first
   * failure) only after all have returned, so that none is left running on a file the caller is
   * about to close or remove.
   */
  static void run(Sync... syncs) throws IOException {
    try {
      if (IN_FLIGHT.incrementAndGet() > TOGETHER_BELOW) {
        for (Sync s : syncs) {
          s.run();
        }
      } else {
        together(syncs);
      }
    } finally {
      IN_FLIGHT.decrementAndGet();
    }
  }

  private static void together(Sync[] syncs) throws IOException {
    List<Future<?>> others = new ArrayList<>(syncs.length - 1);
    for (int i = 1; i < syncs.length; i++) {
      Sync s = syncs[i];
      others.add(HELPERS.submit(() -> {
        try {
          s.run();
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }));
    }
    IOException failed = null;
    try {
      syncs[0].run();
    } catch (IOException e) {
      failed = e;
    }
    boolean interrupted = false;
    for (Future<?> other : others) {
      while (true) {
        try {
          other.get();
          break;
        } catch (ExecutionException e) {
          IOException cause = e.getCause() instanceof UncheckedIOException io ? io.getCause()
              : new IOException("sync failed", e.getCause());
          if (failed == null) {
            failed = cause;
          }
          break;
        } catch (InterruptedException e) {
          // The helper still runs on the caller's files: wait for it all the same.
          interrupted = true;
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    if (failed != null) {
      throw failed;
    }
  }
}
