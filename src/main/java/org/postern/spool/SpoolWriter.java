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

  public SpoolWriter(WorkerExecutor workers, Spool spool, String id) {
    this.workers = workers;
    this.spool = spool;
    this.id = id;
  }

  public String id() {
    return id;
  }

  /** Bytes accepted so far (including the Received header). */
  public long size() {
    return size;
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
   * Writes what is left, fsyncs the content, then commits the envelope (fsync, rename, directory
   * fsync). Succeeds only once the message is durable: then, and only then, may 250 be sent.
   */
  public Future<Void> commit(Envelope envelope) {
    Buffer last = pending;
    pending = null;
    // One worker task for the whole commit: each hand-off between threads costs more than it saves.
    return tail.compose(v -> workers.<Void>executeBlocking(() -> {
      try {
        writeOut(last);
        channel.force(false);
        channel.close();
        channel = null;
        spool.prepareEnvelope(envelope);
        spool.publishEnvelope(envelope.id());
        return null;
      } catch (IOException | RuntimeException e) {
        java.nio.file.Files.deleteIfExists(spool.inputDirectory().resolve(envelope.id() + "-T"));
        throw e;
      }
    }, false));
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

  private void writeOut(Buffer chunk) throws IOException {
    if (channel == null) {
      channel = FileChannel.open(spool.dataFile(id), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    }
    ByteBuffer buf = ByteBuffer.wrap(chunk.getBytes());
    while (buf.hasRemaining()) {
      channel.write(buf);
    }
  }
}
