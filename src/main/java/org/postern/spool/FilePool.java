package org.postern.spool;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Spool files kept for reuse instead of being unlinked: a removed message's {@code -D} and
 * {@code -H} are renamed into {@code <spool>/free/} and a new message's files are renamed out of
 * it and overwritten in place. Creating and unlinking two inodes per message was the largest
 * kernel cost of receiving with local delivery: on ext4 without a journal every new inode is
 * searched for past the inode numbers freed in the last seconds ({@code recently_deleted}), which
 * under load is thousands of them; a reused file also has its blocks already allocated, so its
 * data sync writes no allocation metadata.
 *
 * <p>A pooled file holds an old message's bytes but no envelope names it, and the renames out of
 * the pool are atomic, so another process taking the same file finds it gone and takes the next.
 * A crash may lose or keep pool files: they are not messages. Blocking.
 */
final class FilePool {
  /** At most this many files wait in the pool; more are unlinked. */
  static final int CAPACITY = 4096;
  /** Larger files are unlinked: a pool of big files would hold disk space for nothing. */
  static final long MAX_FILE = 256 * 1024;
  private static final ConcurrentMap<Path, FilePool> SHARED = new ConcurrentHashMap<>();

  private final Path directory;
  private final ConcurrentLinkedDeque<Path> files = new ConcurrentLinkedDeque<>();
  private final AtomicInteger size = new AtomicInteger();

  private FilePool(Path directory) {
    this.directory = directory;
    if (Files.isDirectory(directory)) {
      try (DirectoryStream<Path> left = Files.newDirectoryStream(directory)) {
        for (Path f : left) {
          files.add(f);
          size.incrementAndGet();
        }
      } catch (IOException unreadable) {
        // An empty pool: files are created instead.
      }
    }
  }

  /** The pool in {@code directory}, shared by every caller in this JVM. */
  static FilePool of(Path directory) {
    return SHARED.computeIfAbsent(directory.toAbsolutePath().normalize(), FilePool::new);
  }

  /** Moves {@code file} into the pool, or unlinks it when the pool is full; nothing when it is gone. */
  void recycle(Path file) throws IOException {
    long length;
    try {
      length = Files.size(file);
    } catch (NoSuchFileException gone) {
      return;
    }
    if (length > MAX_FILE || size.get() >= CAPACITY) {
      Files.deleteIfExists(file);
      return;
    }
    Path slot = directory.resolve(file.getFileName());
    try {
      Files.move(file, slot, StandardCopyOption.ATOMIC_MOVE);
    } catch (NoSuchFileException e) {
      if (Files.exists(file)) {
        Files.createDirectories(directory);
        Files.move(file, slot, StandardCopyOption.ATOMIC_MOVE);
      } else {
        return;
      }
    }
    files.push(slot);
    size.incrementAndGet();
  }

  /**
   * Renames a pooled file to {@code target}, which must not exist: true when it did, false when
   * the pool is empty (then create the file).
   */
  boolean takeAs(Path target) throws IOException {
    Path slot;
    while ((slot = files.poll()) != null) {
      size.decrementAndGet();
      try {
        Files.move(slot, target);
        return true;
      } catch (NoSuchFileException takenElsewhere) {
        // Another process had it: the next one.
      }
    }
    return false;
  }
}
