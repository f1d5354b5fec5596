package org.postern.spool;

import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;

/**
 * Streams one message's content into the spool while DATA arrives. Small messages stay in memory
 * until the final dot and cost one blocking task (write, fsync, envelope, rename); large ones are
 * spilled to the {@code -D} file in chunks as they come, so memory per session stays bounded.
 * Used from one event loop; all file work runs on the spool's worker pool.
 */
public final class SpoolWriter {
  /** Above this much pending content, a chunk is written out. */
  static final int SPILL_THRESHOLD = 256 * 1024;

  private final WorkerExecutor workers;
  private final Spool spool;
  private final String id;
  private Buffer pending = Buffer.buffer(16 * 1024);
  private FileChannel channel;
  private Future<Void> tail = Future.succeededFuture();
  private int spillsInFlight;
  private long size;
  /** Length of what Postern put in front of the client's content (Received and ACL headers). */
  private int prefixLength;
  /** {@link #flush} wrote the file out and closed it: the next write reopens the file at the path. */
  private boolean reopen;

  public SpoolWriter(WorkerExecutor workers, Spool spool, String id) {
    this.workers = workers;
    this.spool = spool;
    this.id = id;
  }

  public String id() {
    return id;
  }

  /** Writes Postern's own header lines, before any content: late headers go right after them. */
  public void writePrefix(Buffer bytes) {
    prefixLength = bytes.length();
    write(bytes);
  }

  public void write(Buffer bytes) {
    pending.appendBuffer(bytes);
    size += bytes.length();
    if (pending.length() >= SPILL_THRESHOLD) {
      Buffer chunk = pending;
      pending = Buffer.buffer(64 * 1024);
      spillsInFlight++;
      tail = tail.compose(v -> workers.<Void>executeBlocking(() -> {
        writeOut(chunk);
        return null;
      }, false)).andThen(r -> spillsInFlight--);
    }
  }

  /** True when the caller should stop reading until {@link #drained()} completes. */
  public boolean backlogged() {
    return spillsInFlight > 1;
  }

  public Future<Void> drained() {
    return tail;
  }

  /**
   * Writes what is still in memory to the {@code -D} file and closes it, without an fsync, so that a
   * session filter (a milter) can read the whole message from the file, and replace the file, before
   * {@link #commit}; commit then opens whatever file is at the path, and fsyncs that.
   */
  public Future<Void> flush() {
    Buffer chunk = pending;
    pending = Buffer.buffer(0);
    tail = tail.compose(v -> workers.<Void>executeBlocking(() -> {
      writeOut(chunk);
      // A reused file may be longer than this message: a filter must see this message only.
      channel.truncate(channel.position());
      channel.close();
      channel = null;
      reopen = true;
      return null;
    }, false));
    return tail;
  }

  /**
   * Writes what is left, then commits it with the envelope ({@link Spool#commit}: both synced
   * together, the rename, the directory fsync). Succeeds only once the message is durable: then, and only then, may 250 be sent.
   * {@code lateHeaders} (header lines that the data ACL added, each ending in CRLF; may be empty)
   * go in first, after Postern's own header lines. A message still in memory takes them for free;
   * a spilled one is rewritten once, before the fsync.
   */
  public Future<Void> commit(Envelope envelope, Buffer lateHeaders) {
    Buffer last = pending;
    pending = null;
    boolean spilled = size > last.length();
    if (lateHeaders.length() > 0 && !spilled) {
      last = merged(last, lateHeaders);
    }
    Buffer tailContent = last;
    boolean rewrite = lateHeaders.length() > 0 && spilled;
    // One worker task for the whole commit: each hand-off between threads costs more than it saves.
    return tail.compose(v -> workers.<Void>executeBlocking(() -> {
      try {
        writeOut(tailContent);
        if (rewrite) {
          insertIntoFile(lateHeaders);
        }
        spool.commit(channel, envelope);
        channel.close();
        channel = null;
        return null;
      } catch (IOException | RuntimeException e) {
        java.nio.file.Files.deleteIfExists(spool.inputDirectory().resolve(envelope.id() + "-T"));
        throw e;
      }
    }, false));
  }

  /**
   * The whole message as {@link #commit} would write it (late headers after Postern's own), when
   * it is all still in memory and nothing of it is on disk: never spilled, never {@link #flush}ed
   * for a session filter (which may have replaced the file). Null otherwise. The writer stays
   * usable: {@link #commit} may still follow, or {@link #release} when the message went elsewhere.
   */
  public Buffer inMemory(Buffer lateHeaders) {
    if (!allInMemory()) {
      return null;
    }
    return lateHeaders.length() > 0 ? merged(pending, lateHeaders) : pending;
  }

  /**
   * Forgets a message that {@link #inMemory} handed over and that never reached the disk: no file
   * to remove, so no worker task (unlike {@link #abort}).
   */
  public void release() {
    if (!allInMemory()) {
      throw new IllegalStateException(id + " has spool files: abort it instead");
    }
    pending = null;
  }

  /** Nothing of the message was written to its file yet (no spill, no flush), and it is not committed or aborted. */
  private boolean allInMemory() {
    return pending != null && channel == null && !reopen && size == pending.length();
  }

  private Buffer merged(Buffer content, Buffer lateHeaders) {
    Buffer merged = Buffer.buffer(content.length() + lateHeaders.length());
    return merged.appendBuffer(content, 0, prefixLength).appendBuffer(lateHeaders)
        .appendBuffer(content, prefixLength, content.length() - prefixLength);
  }

  /** Drops the content: the message was refused or the client went away. */
  public Future<Void> abort() {
    pending = null;
    return tail.eventually(() -> workers.<Void>executeBlocking(() -> {
      if (channel != null) {
        channel.close();
        channel = null;
      }
      spool.discardData(id);
      return null;
    }, false));
  }

  /**
   * Copies the spilled file into a new one with {@code lines} after the prefix and renames it into
   * place; the caller's fsync and the envelope's directory fsync make both durable.
   */
  private void insertIntoFile(Buffer lines) throws IOException {
    java.nio.file.Path data = spool.dataFile(id);
    java.nio.file.Path fresh = data.resolveSibling(data.getFileName() + ".new");
    channel.force(false);
    FileChannel out = FileChannel.open(fresh, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
        StandardOpenOption.WRITE, StandardOpenOption.READ);
    try {
      long total = channel.size();
      transfer(channel, 0, prefixLength, out);
      ByteBuffer buf = ContentView.of(lines);
      while (buf.hasRemaining()) {
        out.write(buf);
      }
      transfer(channel, prefixLength, total - prefixLength, out);
      java.nio.file.Files.move(fresh, data, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
          java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException | RuntimeException e) {
      out.close();
      java.nio.file.Files.deleteIfExists(fresh);
      throw e;
    }
    channel.close();
    channel = out;
  }

  private static void transfer(FileChannel from, long position, long count, FileChannel to) throws IOException {
    long done = 0;
    while (done < count) {
      done += from.transferTo(position + done, count - done, to);
    }
  }

  private void writeOut(Buffer chunk) throws IOException {
    if (channel == null && reopen) {
      channel = FileChannel.open(spool.dataFile(id), StandardOpenOption.WRITE, StandardOpenOption.READ);
      channel.position(channel.size());
    } else if (channel == null) {
      channel = spool.openNewData(id);
    }
    ByteBuffer buf = ContentView.of(chunk);
    while (buf.hasRemaining()) {
      channel.write(buf);
    }
  }
}
