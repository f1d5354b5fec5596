package org.postern.spool;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.Shareable;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The spool directory: one message is {@code input/<id>-D} (content, Received header first) and
 * {@code input/<id>-H} (the {@link Envelope}, JSON). The {@code -H} file is the commit point: it is
 * renamed into place only after both files are fsynced, and the directory is fsynced before the
 * 250, so a crash never leaves an acknowledged message missing nor a half message deliverable.
 * Removed messages' files are not unlinked but kept in {@code free/} for new ones ({@link FilePool}).
 * Every method blocks: call from a worker.
 */
public final class Spool implements Shareable {
  private final Path input;
  private final DirectorySync directorySync;
  private final FilePool pool;

  public Spool(Path spoolDirectory) {
    this.input = spoolDirectory.resolve("input");
    this.directorySync = DirectorySync.of(input);
    this.pool = FilePool.of(spoolDirectory.resolve("free"));
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
    DurableFile.write(input.resolve(checked(envelope.id()) + "-T"),
        envelope.toJson().encode().getBytes(StandardCharsets.UTF_8), false);
  }

  /**
   * Commits a new message whose content was written to {@code content} from its start, up to its
   * position, but not yet synced: the content is cut at that position, the envelope is written beside it, both are synced together ({@link PairedSync}), then published.
   * On return the message is durable and exists; {@code content} is left open for the caller.
   */
  public void commit(FileChannel content, Envelope envelope) throws IOException {
    Path tempFile = input.resolve(checked(envelope.id()) + "-T");
    boolean reused = pool.takeAs(tempFile);
    try (FileChannel temp = reused ? FileChannel.open(tempFile, StandardOpenOption.WRITE)
        : FileChannel.open(tempFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer buf = ByteBuffer.wrap(envelope.toJson().encode().getBytes(StandardCharsets.UTF_8));
      while (buf.hasRemaining()) {
        temp.write(buf);
      }
      temp.truncate(temp.position());
      // A reused file may be longer than this message (its position is where the message ends).
      content.truncate(content.position());
      PairedSync.force(temp, content);
    }
    publishEnvelope(envelope.id());
  }

  /** Second half of a commit: the rename that makes the message exist, then the directory fsync. */
  public void publishEnvelope(String id) throws IOException {
    try {
      Files.move(input.resolve(checked(id) + "-T"), envelopeFile(id), StandardCopyOption.ATOMIC_MOVE,
          StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      throw new IOException("spool directory must support atomic rename", e);
    }
    directorySync.sync();
  }

  public Envelope readEnvelope(String id) throws IOException {
    String text = Files.readString(envelopeFile(id), StandardCharsets.UTF_8);
    return Envelope.fromJson(new JsonObject(text));
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
