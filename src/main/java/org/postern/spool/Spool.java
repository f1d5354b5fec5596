package org.postern.spool;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.shareddata.Shareable;
import org.postern.log.MainLog;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The spool directory: one message is {@code input/<id>-D} (content, Received header first) and
 * {@code input/<id>-H} (the {@link Envelope}, JSON, sealed by {@link EnvelopeSeal}). Removed
 * messages' files are not unlinked but kept in {@code free/} for new ones ({@link FilePool}).
 *
 * <p>The commit rule ({@link #commit}): the content is written, the envelope is written as
 * {@code -T} with the content's length and CRC32C and its own CRC32C, renamed to {@code -H}, and
 * then the content's {@code fdatasync}, the envelope's {@code fdatasync} and the directory's
 * {@code fsync} run in one round, all in flight together; the 250 waits until all three returned.
 * Until then the committer holds the message's {@link MessageLock}, so no queue run, {@code -M}
 * action or rewrite of the envelope acts on it. A crash of the machine inside that round can leave
 * an {@code -H} whose bytes, or whose content's bytes, are not on disk: such a message was never
 * acknowledged, and whoever reads it ({@link #readEnvelope}: queue runs, {@code -bp}, {@code -M*},
 * the admin API) finds the seal broken, moves it to {@code corrupt/} with a main-log line and treats it as absent
 * ({@link TornMessageException}). Only a crash of the machine tears a message (a killed process
 * leaves the page cache whole), so the content is checked only when the envelope was written in
 * another boot ({@link BootId}). Later rewrites of the envelope ({@link #writeEnvelope}) keep the
 * older order (envelope synced, renamed, directory synced): the content is durable by then.
 * Every method blocks: call from a worker.
 */
public final class Spool implements Shareable {
  private static final ConcurrentMap<Path, Set<String>> PROVEN = new ConcurrentHashMap<>();
  private final Path input;
  private final DirectorySync directorySync;
  private final FilePool pool;
  /** Messages of an earlier boot whose content this process found whole: not read again. */
  private final Set<String> proven;

  public Spool(Path spoolDirectory) {
    this.input = spoolDirectory.resolve("input");
    this.directorySync = DirectorySync.of(input);
    this.pool = FilePool.of(spoolDirectory.resolve("free"));
    this.proven = PROVEN.computeIfAbsent(input.toAbsolutePath().normalize(), k -> ConcurrentHashMap.newKeySet());
  }

  public Path inputDirectory() {
    return input;
  }

  public void create() throws IOException {
    Files.createDirectories(input);
  }

  public Path dataFile(String id) {
    return input.resolve(checked(id) + "-D");
  }

  public Path envelopeFile(String id) {
    return input.resolve(checked(id) + "-H");
  }

  /**
   * The file whose byte ranges {@link MessageLock} locks: {@code locks/messages} beside
   * {@code input/}, opened by nothing else, because closing any descriptor of a locked file drops
   * the process's locks on it.
   */
  public Path lockFile() {
    return input.resolveSibling("locks").resolve("messages");
  }

  /** True while the message's envelope exists (it is on the queue). */
  public boolean exists(String id) {
    return Files.exists(envelopeFile(id));
  }

  /** Replaces the envelope atomically (delivery progress) and makes the change durable. */
  public void writeEnvelope(Envelope envelope) throws IOException {
    prepareEnvelope(envelope);
    publishEnvelope(envelope.id());
  }

  /**
   * Opens the {@code -D} file of a new message for writing from its start, a file from the pool of
   * removed ones ({@link FilePool}) when there is one, so it may hold old bytes beyond what is written:
   * {@link #commit} cuts them off, and whoever closes it before must {@link FileChannel#truncate} it.
   *
   * @throws java.nio.file.FileAlreadyExistsException when the message's content exists already
   */
  public FileChannel openNewData(String id) throws IOException {
    Path file = dataFile(id);
    return pool.takeAs(file) ? FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.READ)
        : FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.READ);
  }

  /**
   * First half of a commit: the envelope in its temporary file, fsynced. Until
   * {@link #publishEnvelope} renames it, the message does not exist.
   */
  private void prepareEnvelope(Envelope envelope) throws IOException {
    DurableFile.write(input.resolve(checked(envelope.id()) + "-T"), EnvelopeSeal.seal(envelope.toJson(), null), false);
  }

  /**
   * Commits a new message whose content was written to {@code content} from its start, up to its
   * position, but not yet synced: the content is cut at that position, the envelope is written
   * beside it with the content's length and checksum, renamed into place, and then the content,
   * the envelope and the directory are synced in one round ({@link SyncRound}). The message exists
   * from the rename, but locked ({@link MessageLock}) until the round is over, and whole only then.
   * On return the message is durable; {@code content} is left open for the caller. When the lock
   * is taken (another process on a message id that hashes alike), the syncs come before the rename
   * instead, as before there was a seal: two rounds.
   */
  public void commit(FileChannel content, Envelope envelope) throws IOException {
    String id = checked(envelope.id());
    Path tempFile = input.resolve(id + "-T");
    // A reused file may be longer than this message (its position is where the message ends).
    long length = content.position();
    content.truncate(length);
    byte[] sealed = EnvelopeSeal.seal(envelope.toJson(), EnvelopeSeal.Content.of(content, length));
    boolean reused = pool.takeAs(tempFile);
    try (FileChannel temp = reused ? FileChannel.open(tempFile, StandardOpenOption.WRITE)
        : FileChannel.open(tempFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer buf = ByteBuffer.wrap(sealed);
      while (buf.hasRemaining()) {
        temp.write(buf);
      }
      temp.truncate(temp.position());
      Optional<MessageLock> lock = MessageLock.tryLock(this, id);
      if (lock.isEmpty()) {
        SyncRound.run(() -> content.force(false), () -> temp.force(false));
        publishEnvelope(id);
        return;
      }
      try (MessageLock held = lock.get()) {
        rename(id);
        try {
          SyncRound.run(directorySync::sync, () -> content.force(false), () -> temp.force(false));
        } catch (IOException | RuntimeException e) {
          // Not durable, so never acknowledged: it must not be delivered either.
          Files.deleteIfExists(envelopeFile(id));
          throw e;
        }
      }
    }
  }

  /** Second half of a commit: the rename that makes the message exist, then the directory fsync. */
  public void publishEnvelope(String id) throws IOException {
    rename(checked(id));
    directorySync.sync();
  }

  private void rename(String id) throws IOException {
    try {
      Files.move(input.resolve(id + "-T"), envelopeFile(id), StandardCopyOption.ATOMIC_MOVE,
          StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      throw new IOException("spool directory must support atomic rename", e);
    }
  }

  /**
   * The message's envelope, once its seal shows the message whole ({@link EnvelopeSeal}). A torn
   * one (a crash inside its commit: never acknowledged) is moved to {@code corrupt/}, with a main-log line.
   *
   * @throws TornMessageException  when the message was torn (it is no longer in {@code input/})
   * @throws java.nio.file.NoSuchFileException when there is no such message
   */
  public Envelope readEnvelope(String id) throws IOException {
    Path file = envelopeFile(id);
    EnvelopeSeal.Opened opened = EnvelopeSeal.open(Files.readAllBytes(file), id);
    String torn = opened.torn();
    if (torn == null && opened.contentUnproven() && !proven.contains(id)) {
      try (FileChannel data = FileChannel.open(dataFile(id), StandardOpenOption.READ)) {
        torn = opened.content().mismatch(data);
      } catch (java.nio.file.NoSuchFileException e) {
        torn = "no content";
      }
      if (torn == null) {
        proven.add(id);
      }
    }
    if (torn != null) {
      removeTorn(id, torn);
      throw new TornMessageException(file.toString(), torn);
    }
    return Envelope.fromJson(opened.json());
  }

  /**
   * Moves a message torn by a crash to {@code corrupt/} beside {@code input/}, as Postfix moves
   * damaged queue files to its corrupt queue: out of every reader's way, but kept, because a
   * broken seal in the same boot is no crash (a killed process leaves the page cache whole) but a
   * hand edit or a failing disk, and an administrator may want the bytes. No lock is needed:
   * nobody acts on it, since every reader finds it torn, and the moves fail harmlessly for all but
   * one mover.
   */
  private void removeTorn(String id, String reason) {
    Path corrupt = input.resolveSibling("corrupt");
    try {
      Files.createDirectories(corrupt);
      moveAside(envelopeFile(id), corrupt);
      moveAside(dataFile(id), corrupt);
      directorySync.sync();
      MainLog.write(id + " moved to " + corrupt + ": torn by a crash before its commit completed, never acknowledged ("
          + reason + ")");
    } catch (IOException e) {
      MainLog.write(id + " torn by a crash before its commit completed, never acknowledged (" + reason
          + "); not moved aside: " + e);
    }
  }

  private static void moveAside(Path file, Path directory) throws IOException {
    try {
      Files.move(file, directory.resolve(file.getFileName()), StandardCopyOption.REPLACE_EXISTING,
          StandardCopyOption.ATOMIC_MOVE);
    } catch (java.nio.file.NoSuchFileException e) {
      // Another reader moved it first.
    }
  }

  public Buffer readData(String id) throws IOException {
    return Buffer.buffer(Files.readAllBytes(dataFile(id)));
  }

  /**
   * Removes a message whose recipients are all done, durably: the envelope's removal is fsynced
   * (a group commit shared with concurrent commits), so a crash cannot bring the message back to
   * be delivered again. The content goes after it, unsynced: if a crash keeps it, it is an orphan
   * without envelope, removed later by {@link #removeOrphans}.
   */
  public void removeDelivered(String id) throws IOException {
    proven.remove(id);
    pool.recycle(envelopeFile(id));
    directorySync.sync();
    pool.recycle(dataFile(id));
  }

  /**
   * Removes a delivered message: the envelope first, so a crash halfway leaves an orphan, never a
   * half message. Not fsynced: if a crash undoes the removal, the message is delivered again and
   * the transports recognise their earlier copy (maildir names derive from the message id). Its
   * files go to the {@link FilePool}.
   */
  public void remove(String id) throws IOException {
    proven.remove(id);
    pool.recycle(envelopeFile(id));
    pool.recycle(dataFile(id));
  }

  /** Removes content that never got its envelope (the client never saw 250). */
  public void discardData(String id) throws IOException {
    pool.recycle(dataFile(id));
  }

  /** Ids of committed messages, oldest first. */
  public List<String> list() throws IOException {
    List<String> ids = new ArrayList<>();
    if (!Files.isDirectory(input)) {
      return ids;
    }
    try (DirectoryStream<Path> files = Files.newDirectoryStream(input, "*-H")) {
      for (Path f : files) {
        String name = f.getFileName().toString();
        String id = name.substring(0, name.length() - 2);
        if (MessageIds.isValid(id)) {
          ids.add(id);
        }
      }
    }
    ids.sort(null);
    return ids;
  }

  /**
   * Clean-up after a crash: content without an envelope and half-written envelopes belong to
   * messages that were never acknowledged, so they go, once they are older than {@code minAge}.
   * The age is what makes this safe while another process (a daemon, {@code -bs}, {@code -q})
   * is receiving into the same spool: a message being received is younger than the receive
   * timeout, since every chunk written and the commit touch its files.
   */
  public List<String> removeOrphans(java.time.Duration minAge) throws IOException {
    long cutoff = System.currentTimeMillis() - minAge.toMillis();
    List<String> removed = new ArrayList<>();
    if (!Files.isDirectory(input)) {
      return removed;
    }
    try (DirectoryStream<Path> files = Files.newDirectoryStream(input)) {
      for (Path f : files) {
        String name = f.getFileName().toString();
        if (!name.endsWith("-T") && !name.endsWith("-D") || !olderThan(f, cutoff)) {
          continue;
        }
        if (name.endsWith("-T")) {
          Files.deleteIfExists(f);
          removed.add(name);
        } else {
          String id = name.substring(0, name.length() - 2);
          if (!Files.exists(input.resolve(id + "-H"))) {
            Files.deleteIfExists(f);
            removed.add(name);
          }
        }
      }
    }
    if (!removed.isEmpty()) {
      directorySync.sync();
    }
    return removed;
  }

  private static boolean olderThan(Path f, long cutoffMillis) {
    try {
      return Files.getLastModifiedTime(f).toMillis() <= cutoffMillis;
    } catch (IOException e) {
      // Gone meanwhile (committed or aborted): not an orphan.
      return false;
    }
  }

  static String checked(String id) {
    if (!MessageIds.isValid(id)) {
      throw new IllegalArgumentException("not a message id: " + id);
    }
    return id;
  }
}
