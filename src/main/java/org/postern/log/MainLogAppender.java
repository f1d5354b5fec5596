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
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Clock;
import java.time.LocalDate;
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
 * <p>Rotation, as Exim's {@code exicyclog} and other writers expect it: only the daemon renames the
 * file ({@link #rotation(LogRotation)}, at local midnight and by size, pruning old copies, see
 * {@link RotatedLogs}); every process, the daemon included, checks at most once a second whether
 * the name still leads to the file it has open and reopens it when not, so a {@code -q} running
 * across a rotation, or an external logrotate, costs no lines. {@link #reopen()} (SIGUSR1) reopens
 * at the next line.
 *
 * <p>Configured in {@code logback.xml} with {@code <file>}, an optional {@code <paniclog>} and an
 * {@code <encoder>} that renders one event as one line. {@code mainlog} and {@code rejectlog} are
 * two instances.
 */
public final class MainLogAppender extends AppenderBase<ILoggingEvent> {
  private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");
  /** How often a writer checks that its file is still the one its name leads to. */
  private static final long RENAME_CHECK_MILLIS = 1000;

  private static volatile LogRotation rotation = LogRotation.OFF;
  private static volatile Clock clock = Clock.systemDefaultZone();
  /** Bumped by {@link #reopen()}; an appender that has seen an older value reopens its file. */
  private static volatile int reopens;

  private Encoder<ILoggingEvent> encoder;
  private Path file;
  private Path paniclog;
  private FileOutputStream out;
  private RotatedLogs rotated;
  /** The open file's identity (device and inode), its size, its day, and when the name was last checked. */
  private Object fileKey;
  private long size;
  private LocalDate day;
  private long checkedAt;
  private int reopensSeen;
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
    rotated = new RotatedLogs(file);
    super.start();
  }

  /** The daemon's rotation settings ({@code log_rotate_size}, {@code log_keep_days}); other processes never rotate. */
  public static void rotation(LogRotation settings) {
    rotation = settings;
  }

  /** Reopen every log file by name at its next line (SIGUSR1, after an external logrotate renamed them). */
  public static void reopen() {
    reopens++;
  }

  /** For tests: the clock that decides the day and the rename checks. */
  static void clock(Clock c) {
    clock = c;
  }

  @Override
  public void stop() {
    super.stop();
    close();
  }

  private void close() {
    if (out != null) {
      try {
        out.close();
      } catch (IOException e) {
        addWarn("closing " + file + ": " + e.getMessage());
      }
      out = null;
    }
  }

  private void open() throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    out = new FileOutputStream(file.toFile(), true);
    reopensSeen = reopens;
    checkedAt = clock.millis();
    fileKey = null;
    size = 0;
    day = LocalDate.now(clock);
    if (Files.isRegularFile(file)) {
      BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
      fileKey = attributes.fileKey();
      size = attributes.size();
      if (size > 0) {
        // The lines already in it are of the day it was last written.
        day = LocalDate.ofInstant(attributes.lastModifiedTime().toInstant(), clock.getZone());
      }
    }
  }

  /**
   * Before a line of {@code length} bytes: rotate when the day changed or the line would take the
   * file past the size limit (the daemon only), reopen when asked to or when the name now leads to
   * another file (an external rename, or the daemon's rotation seen from another process).
   */
  private void rotateOrReopen(int length) throws IOException {
    if (reopensSeen != reopens) {
      close();
      return;
    }
    LogRotation settings = rotation;
    LocalDate today = LocalDate.now(clock);
    if (settings.enabled() && size > 0
        && (!today.equals(day) || settings.maxBytes() > 0 && size + length > settings.maxBytes())) {
      close();
      if (sameFileAsOpened()) {
        rotated.rotate(day);
      }
      rotated.prune(today, settings.keepDays());
      return;
    }
    long now = clock.millis();
    if (now - checkedAt >= RENAME_CHECK_MILLIS) {
      checkedAt = now;
      if (!sameFileAsOpened()) {
        close();
      }
    }
  }

  private boolean sameFileAsOpened() {
    try {
      Object key = Files.readAttributes(file, BasicFileAttributes.class).fileKey();
      return key != null && key.equals(fileKey);
    } catch (IOException e) {
      return false;
    }
  }

  @Override
  protected void append(ILoggingEvent event) {
    byte[] line = encoder.encode(event);
    try {
      if (out == null) {
        open();
      }
      rotateOrReopen(line.length);
      if (out == null) {
        open();
      }
      // One write(2) with O_APPEND: the line lands whole at the end, whoever else appends.
      byte[] bytes = failure != null && endsMidLine() ? withNewlineFirst(line) : line;
      out.write(bytes);
      size += bytes.length;
      if (fileKey == null) {
        fileKey = Files.readAttributes(file, BasicFileAttributes.class).fileKey();
      }
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
    String stamped = LocalDateTime.now(clock).format(STAMP) + " " + message;
    System.err.println(stamped);
    try (FileOutputStream panic = new FileOutputStream(paniclog.toFile(), true)) {
      panic.write((stamped + "\n").getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      System.err.println(LocalDateTime.now().format(STAMP) + " paniclog " + paniclog + ": " + e.getMessage());
    }
  }
}
