package org.postern.spool;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The directory group commit on a real directory: concurrent callers all return, and when the
 * fsync fails, every caller it was to cover fails (none is told its rename is durable) and later
 * rounds still run. That each acknowledged message's rename came before the fsync that covered it
 * is proven under strace by {@code GroupCommitTest}.
 */
class DirectorySyncTest {
  private static final int THREADS = 16;

  @TempDir
  Path root;

  @Test
  void concurrentCallersAllReturnAndShareFsyncs() throws Exception {
    Path dir = Files.createDirectories(root.resolve("shared"));
    DirectorySync sync = DirectorySync.of(dir);
    long before = sync.rounds();
    int perThread = 200;
    assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
      List<Integer> failed = run(THREADS, perThread, i -> {
        Files.writeString(dir.resolve("f" + i), "x");
        sync.sync();
      });
      assertEquals(List.of(), failed);
    });
    long rounds = sync.rounds() - before;
    assertTrue(rounds <= THREADS * perThread, "at most one fsync per call: " + rounds);
    assertTrue(rounds < THREADS * perThread, "concurrent callers share fsyncs: " + rounds + " for "
        + THREADS * perThread + " calls");
  }

  @Test
  void aFailedFsyncFailsEveryCallerAndTheNextRoundsStillRun() throws Exception {
    Path dir = root.resolve("gone");
    DirectorySync sync = DirectorySync.of(dir);
    assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
      for (int attempt = 0; attempt < 20; attempt++) {
        // The directory does not exist, so every fsync fails: so must every call, member or leader.
        List<Integer> failed = run(THREADS, 5, i -> sync.sync());
        assertEquals(THREADS * 5, failed.size(), "calls that returned although no fsync succeeded");
      }
      Files.createDirectories(dir);
      assertEquals(List.of(), run(THREADS, 20, i -> sync.sync()), "calls after the directory came back");
    });
  }

  @FunctionalInterface
  private interface Call {
    void run(int index) throws IOException;
  }

  /** Runs {@code calls} calls on each of {@code threads} threads, started together; the indexes that threw. */
  private static List<Integer> run(int threads, int calls, Call call) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      CyclicBarrier start = new CyclicBarrier(threads);
      AtomicInteger next = new AtomicInteger();
      List<Future<List<Integer>>> results = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        results.add(pool.submit(() -> {
          start.await();
          List<Integer> failed = new ArrayList<>();
          for (int c = 0; c < calls; c++) {
            int i = next.getAndIncrement();
            try {
              call.run(i);
            } catch (IOException e) {
              failed.add(i);
            }
          }
          return failed;
        }));
      }
      List<Integer> failed = new ArrayList<>();
      for (Future<List<Integer>> r : results) {
        failed.addAll(r.get());
      }
      return failed;
    } finally {
      pool.shutdownNow();
    }
  }
}
