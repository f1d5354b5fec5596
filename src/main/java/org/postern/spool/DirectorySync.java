package org.postern.spool;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Group commit for directory fsyncs: concurrent commits share one {@code fsync} of the directory
 * instead of queueing one each. Callers form rounds: a caller joins the round that has not begun
 * yet, whose {@code fsync} therefore starts after the caller's rename and covers it; while one
 * round's {@code fsync} runs, the next round gathers, and the caller that opened it runs its
 * {@code fsync} as soon as the one before returns. The other members wait only for their round's
 * outcome, and are all woken at once when it is known.
 *
 * <p>Why not a lock around the {@code fsync}: then every waiter had to take the lock in turn, one
 * wake-up after the other, only to learn that an {@code fsync} it waited behind had covered it. At
 * 50 concurrent sessions the spool threads spent 31 % of their time in that queue and under 1 % in
 * the {@code fsync} itself.
 *
 * <p>When a round's {@code fsync} fails, every member fails: a second {@code fsync} after a failed
 * one may return success although the kernel has dropped the dirty pages that failed to write
 * (PostgreSQL's "fsyncgate", 2018), so the failure is not retried on anybody's behalf.
 *
 * <p>One instance per directory in the JVM ({@link #of}), so that every verticle instance writing
 * there (each listener's spool, the queue, the maildir transport) shares it. Blocking; call from a
 * worker thread.
 */
public final class DirectorySync {
  private static final java.util.concurrent.ConcurrentMap<Path, DirectorySync> SHARED =
      new java.util.concurrent.ConcurrentHashMap<>();
  private final Path directory;
  /** The round whose {@code fsync} runs now; null when none does. Guarded by {@code this}. */
  private Round syncing;
  /** The round that callers join now, to run after {@link #syncing}; null when none gathers. Guarded by {@code this}. */
  private Round gathering;
  /** fsyncs run, for tests. */
  private final java.util.concurrent.atomic.AtomicLong rounds = new java.util.concurrent.atomic.AtomicLong();

  /** One {@code fsync} and the callers it covers. */
  private static final class Round {
    /** Completed when the round before it is over: the caller that opened this round may begin. */
    final CompletableFuture<Void> mayBegin = new CompletableFuture<>();
    /** This round's outcome, for its members. */
    final CompletableFuture<Void> done = new CompletableFuture<>();
  }

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
    Round round;
    boolean leads;
    synchronized (this) {
      if (syncing == null) {
        round = new Round();
        round.mayBegin.complete(null);
        syncing = round;
        leads = true;
      } else if (gathering == null) {
        round = new Round();
        gathering = round;
        leads = true;
      } else {
        round = gathering;
        leads = false;
      }
    }
    if (!leads) {
      outcome(round.done);
      return;
    }
    // Uninterruptible: members and the rounds after this one depend on this fsync being run.
    round.mayBegin.join();
    Throwable failed = null;
    rounds.incrementAndGet();
    try {
      force(directory);
    } catch (IOException | RuntimeException | Error e) {
      failed = e;
    }
    // Whatever happened, the round ends and the next one may begin: a round left open would hold
    // every later commit in this directory.
    Round next;
    synchronized (this) {
      next = gathering;
      gathering = null;
      syncing = next;
    }
    if (failed == null) {
      round.done.complete(null);
    } else {
      round.done.completeExceptionally(failed);
    }
    if (next != null) {
      next.mayBegin.complete(null);
    }
    if (failed instanceof IOException io) {
      throw io;
    } else if (failed instanceof RuntimeException re) {
      throw re;
    } else if (failed instanceof Error err) {
      throw err;
    }
  }

  /** How many fsyncs this directory's group commit has run. */
  long rounds() {
    return rounds.get();
  }

  private static void outcome(CompletableFuture<Void> done) throws IOException {
    try {
      done.join();
    } catch (CompletionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof IOException io) {
        throw new IOException("directory fsync failed: " + io.getMessage(), io);
      }
      throw new UncheckedIOException(new IOException("directory fsync failed", cause));
    }
  }

  /** One fsync of {@code directory} now, for a caller with no concurrent commits to share it with. */
  public static void force(Path directory) throws IOException {
    try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
      dir.force(true);
    }
  }
}
