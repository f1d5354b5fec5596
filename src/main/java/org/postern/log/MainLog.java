package org.postern.log;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Exim's main log: one line per event with Exim's markers ({@code <=} arrival, {@code =>} delivery,
 * {@code ==} deferral, {@code **} failure, {@code Completed}), so log habits and tools carry over.
 * Written through the {@code postern.main} logger; {@code logback.xml} sends it to
 * {@code <log_directory>/mainlog} through {@link MainLogAppender} (whole lines, failures reported in
 * {@code paniclog}).
 */
public final class MainLog {
  private static final Logger LOG = LoggerFactory.getLogger("postern.main");
  /** The main log's name in {@code log_directory}, as {@code logback.xml} places it. */
  public static final String FILE_NAME = "mainlog";
  /** The system property that {@code logback.xml} takes the log directory from. */
  private static final String DIRECTORY_PROPERTY = "postern.log.dir";

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

  /** The file this process's main log goes to, as {@code logback.xml} names it (the admin API reads it). */
  public static java.nio.file.Path file() {
    return java.nio.file.Path.of(System.getProperty(DIRECTORY_PROPERTY, "data/log"), FILE_NAME);
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
