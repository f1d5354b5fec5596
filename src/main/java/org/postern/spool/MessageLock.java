package org.postern.spool;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The exclusive right to act on one spooled message, across processes: Exim locks the {@code -D}
 * file with fcntl for the same purpose. Whoever delivers, removes, freezes or thaws a message holds
 * it, so an administrator's {@code -Mrm} never removes a message in the middle of its delivery and
 * a {@code postern -q} never delivers what the daemon is delivering.
 *
 * <p>The queue is its intended caller around each delivery attempt: take the lock before reading
 * the envelope, skip the message when {@link #tryLock} is empty (someone else is on it), re-read the
 * envelope under the lock, and close the lock after the envelope was rewritten or the message
 * removed.
 *
 * <p>The lock is a {@link FileLock} (fcntl on Linux) on {@link Spool#lockFile}, a file of its own:
 * POSIX drops a process's lock when it closes any descriptor of the locked file, so locking the
 * {@code -D} file that the transports read would silently lose the lock. The kernel releases the
 * lock when its process dies, so a killed delivery never leaves a message locked. Within one JVM a
 * second {@link #tryLock} of a held message is refused before any file is opened: closing that
 * second descriptor would otherwise drop the first holder's lock.
 *
 * <p>The lock file is removed on {@link #close} once the message has left the spool, still under
 * the lock. Message ids are never reused, so a locker racing with that removal only ever finds a
 * message that is gone, which callers check under the lock ({@link Spool#exists}).
 *
 * <p>Every method blocks on the file system: call off the event loop.
 */
public final class MessageLock implements AutoCloseable {
  /** Lock files this JVM holds (or is taking) a lock on. */
  private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();

  private final Spool spool;
  private final String id;
  private final Path file;
  private final FileChannel channel;
  private final FileLock lock;

  private MessageLock(Spool spool, String id, Path file, FileChannel channel, FileLock lock) {
    this.spool = spool;
    this.id = id;
    this.file = file;
    this.channel = channel;
    this.lock = lock;
  }

  /**
   * Takes the message's lock without waiting: empty when another process, or another holder in
   * this JVM, has it. Does not check that the message exists; do that under the lock.
   */
  public static Optional<MessageLock> tryLock(Spool spool, String id) throws IOException {
    Path file = spool.lockFile(id).toAbsolutePath().normalize();
    if (!HELD.add(file)) {
      return Optional.empty();
    }
    FileChannel channel = null;
    try {
      if (!Files.isDirectory(file.getParent())) {
        Files.createDirectories(file.getParent());
      }
      channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      FileLock lock;
      try {
        lock = channel.tryLock();
      } catch (OverlappingFileLockException heldInThisJvm) {
        // Locked through a channel this class did not open: still someone else's.
        lock = null;
      }
      if (lock != null) {
        return Optional.of(new MessageLock(spool, id, file, channel, lock));
      }
    } catch (IOException | RuntimeException e) {
      close(channel, file);
      throw e;
    }
    close(channel, file);
    return Optional.empty();
  }

  public String id() {
    return id;
  }

  /** Releases the lock; removes the lock file first when the message is no longer on the spool. */
  @Override
  public void close() throws IOException {
    try {
      if (!Files.exists(spool.envelopeFile(id)) && !Files.exists(spool.dataFile(id))) {
        Files.deleteIfExists(file);
      }
    } finally {
      try {
        lock.release();
      } finally {
        close(channel, file);
      }
    }
  }

  private static void close(FileChannel channel, Path file) throws IOException {
    try {
      if (channel != null) {
        channel.close();
      }
    } finally {
      HELD.remove(file);
    }
  }
}
