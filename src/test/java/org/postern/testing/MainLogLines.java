package org.postern.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The main log every test server of this JVM writes ({@code postern.log.dir}, set by surefire):
 * waits for a line, since the log is written asynchronously.
 */
public final class MainLogLines {
  private static final Path MAINLOG = Path.of(System.getProperty("postern.log.dir", "target/test-logs"), "mainlog");

  private MainLogLines() {
  }

  /** The first line containing every one of {@code texts}, waiting up to {@code millis}; fails after that. */
  public static String await(long millis, String... texts) throws IOException, InterruptedException {
    long end = System.currentTimeMillis() + millis;
    while (true) {
      List<String> lines = Files.exists(MAINLOG) ? Files.readAllLines(MAINLOG, StandardCharsets.UTF_8) : List.of();
      for (String line : lines) {
        boolean all = true;
        for (String t : texts) {
          all &= line.contains(t);
        }
        if (all) {
          return line;
        }
      }
      if (System.currentTimeMillis() >= end) {
        throw new AssertionError("no main-log line with " + List.of(texts) + " within " + millis + " ms");
      }
      Thread.sleep(20);
    }
  }
}
