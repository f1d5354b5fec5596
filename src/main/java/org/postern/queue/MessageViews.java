package org.postern.queue;

import org.postern.spool.Spool;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code -Mvh}, {@code -Mvb}, {@code -Mvc} and {@code -Mvl}: a queued message's header section,
 * body, whole content or main-log lines on stdout, byte for byte as spooled (CRLF line ends) or
 * logged. Reads without the {@link org.postern.spool.MessageLock}, as Exim does, so a message
 * being delivered can still be looked at; one that is removed meanwhile is reported as gone
 * (once its {@code -D} file is open, a removal no longer affects what is printed). Unknown ids
 * go to stderr and do not stop the others. Blocking. The command line prints them; the admin API
 * shows a message's headers and log lines through the same code.
 */
public final class MessageViews {
  /**
   * What to print of each message. {@code DSN_AND_HEADERS} is {@code -Mvh}'s: the header section,
   * preceded, when the message carries RFC 3461 values, by those lines of Exim's {@code -H} file
   * and a blank line (see {@link DsnSpoolLines}), as Exim's {@code -Mvh} shows its whole file.
   */
  public enum View { HEADERS, DSN_AND_HEADERS, BODY, WHOLE, LOG }

  private final Spool spool;
  private final Path mainLog;
  private final PrintStream out;
  private final PrintStream err;

  /** {@code mainLog} is the file {@link org.postern.log.MainLog} writes: {@code <log_directory>/mainlog}. */
  public MessageViews(Spool spool, Path mainLog, PrintStream out, PrintStream err) {
    this.spool = spool;
    this.mainLog = mainLog;
    this.out = out;
    this.err = err;
  }

  /** 0 when every message was shown, 1 when any was not on the queue. */
  public int show(View view, List<String> ids) throws IOException {
    int status = 0;
    for (String id : ids) {
      boolean shown = spool.exists(id) && (view == View.LOG ? printLog(id) : printData(id, view));
      if (!shown) {
        err.println("postern: message " + id + ": no such message");
        status = 1;
      }
    }
    out.flush();
    return status;
  }

  private boolean printData(String id, View view) throws IOException {
    InputStream opened;
    try {
      opened = Files.newInputStream(spool.dataFile(id));
    } catch (NoSuchFileException removedMeanwhile) {
      return false;
    }
    try (InputStream in = new BufferedInputStream(opened)) {
      if (view == View.DSN_AND_HEADERS) {
        String dsn;
        try {
          dsn = DsnSpoolLines.of(spool.readEnvelope(id));
        } catch (NoSuchFileException removedMeanwhile) {
          return false;
        }
        if (!dsn.isEmpty()) {
          out.write((dsn + "\n").getBytes(StandardCharsets.UTF_8));
        }
      }
      if (view == View.WHOLE) {
        in.transferTo(out);
        return true;
      }
      for (byte[] line = readLine(in); line != null && !isEmptyLine(line); line = readLine(in)) {
        if (view == View.HEADERS || view == View.DSN_AND_HEADERS) {
          out.write(line);
        }
      }
      if (view == View.BODY) {
        in.transferTo(out);
      }
      return true;
    }
  }

  /**
   * The message's main-log lines byte for byte, timestamp included: Postern keeps no per-message
   * log. Bytes rather than text, so that nothing of a line is re-encoded on the way.
   */
  private boolean printLog(String id) throws IOException {
    InputStream opened;
    try {
      opened = Files.newInputStream(mainLog);
    } catch (NoSuchFileException nothingLoggedYet) {
      return true;
    }
    try (InputStream in = new BufferedInputStream(opened)) {
      for (byte[] line = readLine(in); line != null; line = readLine(in)) {
        if (isAbout(line, id)) {
          out.write(line);
        }
      }
    }
    return true;
  }

  /** True for {@code <date> <time> <id> ...}: the lines logged for the message itself. */
  private static boolean isAbout(byte[] line, String id) {
    String[] fields = new String(line, 0, Math.min(line.length, 64), StandardCharsets.ISO_8859_1).split(" ", 4);
    return fields.length == 4 && fields[2].equals(id);
  }

  /** One line with its CRLF or LF, or the unterminated rest; null at the end. */
  private static byte[] readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream(128);
    int b;
    while ((b = in.read()) >= 0) {
      line.write(b);
      if (b == '\n') {
        break;
      }
    }
    return line.size() == 0 ? null : line.toByteArray();
  }

  private static boolean isEmptyLine(byte[] line) {
    return line.length == 1 && line[0] == '\n' || line.length == 2 && line[0] == '\r' && line[1] == '\n';
  }
}
