package org.postern.log;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.testing.TinyFileSystem;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The main log on file systems that really refuse writes: {@code /dev/full} (every write fails
 * with ENOSPC) and, where the test may mount one, a tiny tmpfs filled to the last byte.
 */
class MainLogAppenderTest {
  @TempDir
  Path dir;

  /** Runs {@code body} with stderr captured; returns what it printed. */
  private static String stderrOf(IoRunnable body) throws Exception {
    PrintStream saved = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      body.run();
    } finally {
      System.setErr(saved);
    }
    return captured.toString(StandardCharsets.UTF_8);
  }

  private interface IoRunnable {
    void run() throws Exception;
  }

  private static long count(String text, String part) {
    return text.lines().filter(l -> l.contains(part)).count();
  }

  @Test
  void writesThatFailAreReportedOnceOnStderrAndInThePaniclog() throws Exception {
    Path paniclog = dir.resolve("paniclog");
    MainLogger log = MainLogger.to(Path.of("/dev/full"), paniclog);
    String err = stderrOf(() -> {
      for (int i = 0; i < 5; i++) {
        log.logger().info("1xLost-00000{}-0000 <= sender@example.org", i);
      }
    });
    log.context().stop();
    assertEquals(1, count(err, "main log /dev/full: write failed (No space left on device)"), err);
    List<String> panic = Files.readAllLines(paniclog);
    assertEquals(1, panic.size(), panic.toString());
    assertTrue(panic.get(0).matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d main log /dev/full: write failed "
        + "\\(No space left on device\\): main-log lines are lost until it can be written again"), panic.get(0));
  }

  @Test
  void aFileSystemThatFillsUpCutsNoLineIntoTheNextAndTheRecoveryCountsTheLostLines() throws Exception {
    Path mount = Files.createDirectories(dir.resolve("tiny"));
    assumeTrue(TinyFileSystem.mount(mount, "64k"),
        "cannot mount a tmpfs here (not root?); /dev/full covers the failure report");
    try {
      Path mainlog = mount.resolve("mainlog");
      MainLogger log = MainLogger.to(mainlog, null);
      String first = "1xFirs-000000-0000 <= first@example.org";
      String longLine = "1xLong-000000-0000 <= " + "l".repeat(6000);
      String last = "1xLast-000000-0000 <= last@example.org";
      String[] recovered = new String[1];
      String err = stderrOf(() -> {
        log.logger().info(first);
        TinyFileSystem.fill(mount.resolve("filler"));
        // Most of this line fits in the log's last page, the rest finds no space.
        log.logger().info(longLine);
        log.logger().info("1xGone-000000-0000 <= gone@example.org");
        Files.delete(mount.resolve("filler"));
        log.logger().info(last);
        recovered[0] = Files.readString(mount.resolve("paniclog"));
      });
      log.context().stop();
      List<String> lines = Files.readAllLines(mainlog);
      assertEquals(3, lines.size(), "the first line, what fitted of the long one, the last: " + lines);
      assertEquals(first, lines.get(0));
      assertEquals(last, lines.get(lines.size() - 1), "the next line is whole and on its own: " + lines);
      for (String l : lines.subList(1, lines.size() - 1)) {
        assertTrue(longLine.startsWith(l), "only the cut line itself is short: " + l);
      }
      assertEquals(1, count(err, "write failed (No space left on device"), err);
      assertEquals(1, count(err, "written again: 2 line(s) were lost"), err);
      // The failure could not reach the full disk's paniclog; the recovery could.
      assertTrue(recovered[0].contains("written again: 2 line(s) were lost"), recovered[0]);
    } finally {
      TinyFileSystem.unmount(mount);
    }
  }
}
