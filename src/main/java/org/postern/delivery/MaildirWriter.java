package org.postern.delivery;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Writes one message into one Maildir (tmp, fsync, rename into new, fsync new) with a unique name
 * as the Maildir specification asks: {@code <seconds>.M<micros>P<pid>Q<seq>.<host>,S=<size>}.
 * Blocking; run on a worker.
 */
final class MaildirWriter {
  private static final AtomicLong SEQUENCE = new AtomicLong();
  private static final long PID = ProcessHandle.current().pid();

  private MaildirWriter() {
  }

  /** Delivers {@code content} with a Return-Path header in front; returns the new file. */
  static Path deliver(Path maildir, String host, String returnPath, Path content) throws IOException {
    Path tmp = maildir.resolve("tmp");
    Path fresh = maildir.resolve("new");
    Files.createDirectories(tmp);
    Files.createDirectories(fresh);
    Files.createDirectories(maildir.resolve("cur"));
    long now = System.currentTimeMillis();
    String base = (now / 1000) + ".M" + (now % 1000) * 1000 + "P" + PID + "Q" + SEQUENCE.incrementAndGet() + "."
        + host.replace("/", "\\057").replace(":", "\\072");
    Path tmpFile = tmp.resolve(base);
    byte[] header = ("Return-Path: <" + returnPath + ">\r\n").getBytes(StandardCharsets.UTF_8);
    long size;
    try (FileChannel out = FileChannel.open(tmpFile, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
         OutputStream stream = Channels.newOutputStream(out);
         InputStream in = Files.newInputStream(content)) {
      stream.write(header);
      size = header.length + in.transferTo(stream);
      stream.flush();
      out.force(true);
    } catch (IOException e) {
      Files.deleteIfExists(tmpFile);
      throw e;
    }
    Path target = fresh.resolve(base + ",S=" + size);
    Files.move(tmpFile, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    try (FileChannel dir = FileChannel.open(fresh, StandardOpenOption.READ)) {
      dir.force(true);
    }
    return target;
  }
}
