package org.postern.log;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import ch.qos.logback.core.encoder.Encoder;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;

/**
 * Writes the main log as Exim does: each line with one {@code write(2)} on a file opened with
 * {@code O_APPEND}, so it lands whole at the end of the file even between the lines of other
 * processes ({@code -M}, {@code -q}) writing the same log. A write that fails (a full file system)
 * is never silent: the first failure and the recovery are each reported once, on stderr and in
 * {@code paniclog} beside the main log (Exim's panic log), with the number of lines lost. A line
 * cut short by a file system that filled up mid-write is ended before the next line, so two lines
 * never merge into one.
 *
 * <p>A {@link FileOutputStream}, not a {@code FileChannel}: logback's asynchronous appender
 * interrupts its thread when it stops and then drains the queue, and an interrupt closes an
 * interruptible channel, which would lose the last lines of every short-lived command.
 *
 * <p>Configured in {@code logback.xml} with {@code <file>}, an optional {@code <paniclog>} and an
 * {@code <encoder>} that renders one event as one line.
 */
public final class MainLogAppender extends AppenderBase<ILoggingEvent> {
  private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");

  private Encoder<ILoggingEvent> encoder;
  private Path file;
  private Path paniclog;
  private FileOutputStream out;
  /** Why writes fail, or null while they succeed. */
  private String failure;
  private long lost;

  public void setFile(String file) {
    this.file = Path.of(file);
  }

  /** Where failures are reported; {@code paniclog} beside the main log unless set. */
  public void setPaniclog(String paniclog) {
    this.paniclog = Path.of(paniclog);
  }

  public void setEncoder(Encoder<ILoggingEvent> encoder) {
    this.encoder = encoder;
  }

  @Override
  public void start() {
    if (file == null || encoder == null) {
      addError("the main log needs a <file> and an <encoder>");
      return;
    }
    if (paniclog == null) {
      paniclog = file.resolveSibling("paniclog");
    }
    super.start();
  }

  @Override
  public void stop() {
    super.stop();
    if (out != null) {
      try {
        out.close();
      } catch (IOException e) {
        addWarn("closing " + file + ": " + e.getMessage());
      }
      out = null;
    }
  }

  @Override
  protected void append(ILoggingEvent event) {
    byte[] line = encoder.encode(event);
    try {
      if (out == null) {
        Files.createDirectories(file.toAbsolutePath().getParent());
        out = new FileOutputStream(file.toFile(), true);
      }
      // One write(2) with O_APPEND: the line lands whole at the end, whoever else appends.
      out.write(failure != null && endsMidLine() ? withNewlineFirst(line) : line);
    } catch (IOException e) {
      lost++;
      if (failure == null) {
        failure = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        report("main log " + file + ": write failed (" + failure + "): main-log lines are lost until it can be"
            + " written again");
      }
      return;
    }
    if (failure != null) {
      report("main log " + file + " written again: " + lost + " line(s) were lost (" + failure + ")");
      failure = null;
      lost = 0;
    }
  }

  /** After a failed write: did part of a line reach the file, so that the next must end it first? */
  private boolean endsMidLine() {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
      long length = f.length();
      if (length == 0) {
        return false;
      }
      f.seek(length - 1);
      return f.read() != '\n';
    } catch (IOException e) {
      return false;
    }
  }

  private static byte[] withNewlineFirst(byte[] line) {
    byte[] out = new byte[line.length + 1];
    out[0] = '\n';
    System.arraycopy(line, 0, out, 1, line.length);
    return out;
  }

  /** Exim's panic log, and stderr for when that cannot be written either (it is usually on the same disk). */
  private void report(String message) {
    String stamped = LocalDateTime.now().format(STAMP) + " " + message;
    System.err.println(stamped);
    try (FileOutputStream panic = new FileOutputStream(paniclog.toFile(), true)) {
      panic.write((stamped + "\n").getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      System.err.println(LocalDateTime.now().format(STAMP) + " paniclog " + paniclog + ": " + e.getMessage());
    }
  }
}
