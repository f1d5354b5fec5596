package org.postern.delivery;

import org.postern.spool.DirectorySync;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Writes one message into one Maildir (tmp, fsync, rename into new, fsync new). The file name is
 * derived from the message id, {@code <received seconds>.M<id>.<host>,S=<size>}: unique as the
 * Maildir specification asks (one message id is delivered once per mailbox), and deterministic,
 * so a delivery repeated after a crash finds the earlier copy and does not write a second one.
 * Blocking; run on a worker.
 */
final class MaildirWriter {
  /**
   * Maildirs whose tmp/, new/ and cur/ this process has made or found: their three
   * {@code createDirectories} (a stat each, and a lookup in a large parent) are skipped for every
   * later delivery. A maildir removed meanwhile shows as a missing file, and is made again.
   */
  private static final java.util.Set<Path> KNOWN = java.util.concurrent.ConcurrentHashMap.newKeySet();

  private MaildirWriter() {
  }

  /**
   * Delivers {@code content} with a Return-Path header in front, unless this message is already in
   * the mailbox; returns the file.
   *
   * @param lookInCur also look among the messages the user has already seen ({@code cur/}, renamed
   *                  with flags): needed only when redelivering after a restart
   */
  static Path deliver(Path maildir, String host, String messageId, long receivedSeconds, String returnPath,
                      Path content, boolean lookInCur) throws IOException {
    try (FileChannel in = FileChannel.open(content, StandardOpenOption.READ)) {
      long length = in.size();
      return deliver(maildir, host, messageId, receivedSeconds, returnPath, new Source() {
        @Override
        public long length() {
          return length;
        }

        @Override
        public void copyTo(FileChannel out) throws IOException {
          // File to file in the kernel (sendfile/copy_file_range): the bytes never enter the JVM.
          for (long done = 0; done < length; ) {
            done += in.transferTo(done, length - done, out);
          }
        }
      }, lookInCur);
    }
  }

  /**
   * Delivers a message held in memory ({@code local_delivery_before_ack}: the listener's bytes,
   * never written to the spool), as {@link #deliver(Path, String, String, long, String, Path, boolean)}
   * does a spool file: the same name, the same syncs.
   */
  static Path deliver(Path maildir, String host, String messageId, long receivedSeconds, String returnPath,
                      ByteBuffer content, boolean lookInCur) throws IOException {
    return deliver(maildir, host, messageId, receivedSeconds, returnPath, new Source() {
      @Override
      public long length() {
        return content.remaining();
      }

      @Override
      public void copyTo(FileChannel out) throws IOException {
        ByteBuffer buf = content.duplicate();
        while (buf.hasRemaining()) {
          out.write(buf);
        }
      }
    }, lookInCur);
  }

  /** The message's bytes, wherever they are. */
  private interface Source {
    long length();

    void copyTo(FileChannel out) throws IOException;
  }

  private static Path deliver(Path maildir, String host, String messageId, long receivedSeconds, String returnPath,
                              Source content, boolean lookInCur) throws IOException {
    if (KNOWN.add(maildir)) {
      try {
        makeDirectories(maildir);
      } catch (IOException e) {
        KNOWN.remove(maildir);
        throw e;
      }
    }
    try {
      return write(maildir, host, messageId, receivedSeconds, returnPath, content, lookInCur);
    } catch (java.nio.file.NoSuchFileException e) {
      // The maildir (or part of it) went away since this process last wrote into it.
      makeDirectories(maildir);
      return write(maildir, host, messageId, receivedSeconds, returnPath, content, lookInCur);
    }
  }

  private static void makeDirectories(Path maildir) throws IOException {
    Files.createDirectories(maildir.resolve("tmp"));
    Files.createDirectories(maildir.resolve("new"));
    Files.createDirectories(maildir.resolve("cur"));
  }

  private static Path write(Path maildir, String host, String messageId, long receivedSeconds, String returnPath,
                            Source content, boolean lookInCur) throws IOException {
    Path tmp = maildir.resolve("tmp");
    Path fresh = maildir.resolve("new");
    Path cur = maildir.resolve("cur");
    String base = receivedSeconds + ".M" + messageId + "." + host.replace("/", "\\057").replace(":", "\\072");
    byte[] header = ("Return-Path: <" + returnPath + ">\r\n").getBytes(StandardCharsets.UTF_8);
    Path target = fresh.resolve(base + ",S=" + (header.length + content.length()));
    Path seen = lookInCur ? alreadySeen(cur, base) : null;
    if (seen != null || Files.exists(target)) {
      return seen != null ? seen : target;
    }
    Path tmpFile = tmp.resolve(base);
    try (FileChannel out = FileChannel.open(tmpFile, StandardOpenOption.CREATE,
        StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
      ByteBuffer buf = ByteBuffer.wrap(header);
      while (buf.hasRemaining()) {
        out.write(buf);
      }
      content.copyTo(out);
      out.force(false);
    } catch (IOException e) {
      Files.deleteIfExists(tmpFile);
      throw e;
    }
    Files.move(tmpFile, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    DirectorySync.of(fresh).sync();
    return target;
  }

  private static Path alreadySeen(Path cur, String base) throws IOException {
    try (DirectoryStream<Path> files = Files.newDirectoryStream(cur, glob(base) + ",*")) {
      for (Path f : files) {
        return f;
      }
    }
    return null;
  }

  private static String glob(String literal) {
    return literal.replaceAll("([\\\\*?\\[\\]{}])", "\\\\$1");
  }
}
