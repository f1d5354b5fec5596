package org.postern.spool;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
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
 * <p>The lock is an fcntl byte-range lock, one byte per message id (at a 62-bit hash of it), in one
 * file, {@link Spool#lockFile()}. One file rather than a file per message: creating and unlinking
 * an inode per delivery was the largest kernel cost of a busy relay (ext4's search for an inode
 * number not recently deleted). Two ids that hash alike only exclude each other for a moment; the
 * same id always finds its own byte. The kernel releases the lock when its process dies, so a
 * killed delivery never leaves a message locked.
 *
 * <p>POSIX drops every lock a process holds on a file when it closes any descriptor of that file,
 * so this JVM opens the lock file once, shares that channel between its holders, and closes it only
 * when none is left. A second {@link #tryLock} of a message held in this JVM is refused before the
 * file is touched.
 *
 * <p>Every method blocks on the file system: call off the event loop.
 */
public final class MessageLock implements AutoCloseable {
  /** Lock file and id of every lock this JVM holds (or is taking). */
  private static final Set<String> HELD = ConcurrentHashMap.newKeySet();
  /** The open lock files, with how many holders use each; guarded by itself. */
  private static final Map<Path, SharedChannel> CHANNELS = new HashMap<>();

  private static final class SharedChannel {
    private final FileChannel channel;
    private int users;

    private SharedChannel(FileChannel channel) {
      this.channel = channel;
    }
  }

  private final String id;
  private final Path file;
  private final String key;
  private final FileLock lock;
  private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

  private MessageLock(String id, Path file, String key, FileLock lock) {
    this.id = id;
    this.file = file;
    this.key = key;
    this.lock = lock;
  }

  /**
   * Takes the message's lock without waiting: empty when another process, or another holder in
   * this JVM, has it. Does not check that the message exists; do that under the lock.
   *
   * @throws IllegalArgumentException when {@code id} is not a spool id
   */
  public static Optional<MessageLock> tryLock(Spool spool, String id) throws IOException {
    Spool.checked(id);
    Path file = spool.lockFile().toAbsolutePath().normalize();
    String key = file + "\0" + id;
    if (!HELD.add(key)) {
      return Optional.empty();
    }
    FileChannel channel;
    try {
      channel = open(file);
    } catch (IOException | RuntimeException e) {
      HELD.remove(key);
      throw e;
    }
    FileLock lock = null;
    try {
      lock = channel.tryLock(position(id), 1, false);
    } catch (OverlappingFileLockException sameByteHeldHere) {
      // Another id of this JVM on the same byte: the message waits for the next run.
    } finally {
      if (lock == null) {
        release(file, key);
      }
    }
    return lock == null ? Optional.empty() : Optional.of(new MessageLock(id, file, key, lock));
  }

  public String id() {
    return id;
  }

  /** True until {@link #close()}. */
  public boolean held() {
    return !closed.get();
  }

  /** Releases the lock; closing again does nothing. */
  @Override
  public void close() throws IOException {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      lock.release();
    } finally {
      release(file, key);
    }
  }

  /** Where in the lock file the message's byte is: a 62-bit FNV-1a hash of its id. */
  static long position(String id) {
    long h = 0xcbf29ce484222325L;
    for (byte b : id.getBytes(StandardCharsets.US_ASCII)) {
      h = (h ^ (b & 0xff)) * 0x100000001b3L;
    }
    return h & 0x3fff_ffff_ffff_ffffL;
  }

  private static FileChannel open(Path file) throws IOException {
    synchronized (CHANNELS) {
      SharedChannel shared = CHANNELS.get(file);
      if (shared == null) {
        if (!Files.isDirectory(file.getParent())) {
          Files.createDirectories(file.getParent());
        }
        shared = new SharedChannel(FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE));
        CHANNELS.put(file, shared);
      }
      shared.users++;
      return shared.channel;
    }
  }

  /** Gives up a holder's use of the lock file: closing it is safe once no lock of ours is on it. */
  private static void release(Path file, String key) throws IOException {
    try {
      synchronized (CHANNELS) {
        SharedChannel shared = CHANNELS.get(file);
        if (shared != null && --shared.users == 0) {
          CHANNELS.remove(file);
          shared.channel.close();
        }
      }
    } finally {
      HELD.remove(key);
    }
  }
}
