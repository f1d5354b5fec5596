package org.postern.log;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Exim's main log: one line per event with Exim's markers ({@code <=} arrival, {@code =>} delivery,
 * {@code ==} deferral, {@code **} failure, {@code Completed}), so log habits and tools carry over.
 * Written through the {@code postern.main} logger; {@code logback.xml} sends it to
 * {@code <log_directory>/mainlog} through {@link MainLogAppender} (whole lines, failures reported in
 * {@code paniclog}). Refusals also go to Exim's {@code rejectlog} beside it ({@link #reject}).
 */
public final class MainLog {
  private static final Logger LOG = LoggerFactory.getLogger("postern.main");
  private static final Logger REJECT = LoggerFactory.getLogger("postern.reject");

  private MainLog() {
  }

  /**
   * Writes out the lines still queued for the file (the appender is asynchronous) and closes the
   * log: a short-lived command ({@code -Mrm}, {@code -Mf}) calls it before the process exits.
   */
  public static void close() {
    if (LoggerFactory.getILoggerFactory() instanceof ch.qos.logback.classic.LoggerContext context) {
      context.stop();
    }
  }

  /**
   * A refusal in Exim's {@code rejectlog}: the line as the main log has it (the caller writes that
   * one), and below it, where the message is known (after DATA), the envelope and the header lines.
   */
  public static void reject(String line, String detail) {
    REJECT.info(detail == null ? line : line + "\n" + detail);
  }

  /** A refusal the main log and {@code rejectlog} both get (e.g. a synchronisation error). */
  public static void writeRejection(String line) {
    write(line);
    reject(line, null);
  }

  /** The daemon's rotation settings for its log files; any other process only appends. */
  public static void rotation(LogRotation settings) {
    MainLogAppender.rotation(settings);
  }

  /** Reopen the log files by name at their next line (SIGUSR1, after an external logrotate). */
  public static void reopen() {
    MainLogAppender.reopen();
  }

  public static void write(String line) {
    if (line.indexOf('\n') < 0) {
      LOG.info(line);
      return;
    }
    // Several events reported together (e.g. "<=" and "frozen by ACL"): one log line each.
    for (String each : line.split("\n")) {
      LOG.info(each);
    }
  }
}
