package org.postern.log;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.testing.SettableClock;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The main log's rotation on real files, with a settable clock for the day and the once-a-second
 * rename check: size cuts, the midnight cut, pruning after {@code log_keep_days}, and reopening
 * after an external rename, with every line kept, in order, whole.
 */
class LogRotationTest {
  @TempDir
  Path dir;
  private final SettableClock clock = new SettableClock(Instant.parse("2026-12-06T22:00:00Z"));
  private LoggerContext context;
  private Logger log;
  private Path mainlog;

  @BeforeEach
  void start() {
    MainLogAppender.clock(clock);
    mainlog = dir.resolve("mainlog");
    MainLogger main = MainLogger.to(mainlog, null);
    context = main.context();
    log = main.logger();
  }

  @AfterEach
  void stop() {
    context.stop();
    MainLogAppender.rotation(LogRotation.OFF);
    MainLogAppender.clock(Clock.systemDefaultZone());
  }

  private List<String> writeLines(int from, int to) {
    List<String> written = new ArrayList<>();
    for (int i = from; i < to; i++) {
      String line = "line " + i + " " + "x".repeat(30);
      log.info(line);
      written.add(line);
    }
    return written;
  }

  /** Every log file of the directory, oldest content first: the rotated copies by name, then mainlog. */
  private List<Path> files() throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      List<Path> rotated = new ArrayList<>(s.filter(p -> p.getFileName().toString().startsWith("mainlog."))
          .sorted((a, b) -> rotationOrder(a).compareTo(rotationOrder(b))).toList());
      rotated.add(mainlog);
      return rotated;
    }
  }

  /** mainlog.DAY sorts before mainlog.DAY.1, .2, ... .10. */
  private static String rotationOrder(Path p) {
    String[] parts = p.getFileName().toString().split("\\.");
    return parts[1] + "." + String.format("%06d", parts.length > 2 ? Integer.parseInt(parts[2]) : 0);
  }

  private List<String> allLines() throws IOException {
    List<String> all = new ArrayList<>();
    for (Path p : files()) {
      if (Files.exists(p)) {
        all.addAll(Files.readAllLines(p));
      }
    }
    return all;
  }

  @Test
  void aSizeCutStartsANewFileAndKeepsEveryLineInOrder() throws Exception {
    MainLogAppender.rotation(new LogRotation(400, 10));
    List<String> written = writeLines(0, 40);
    List<Path> files = files();
    assertTrue(files.size() >= 4, "several cuts of 400 bytes: " + files);
    assertEquals(dir.resolve("mainlog.2026-12-06"), files.get(0));
    assertEquals(dir.resolve("mainlog.2026-12-06.1"), files.get(1));
    for (Path p : files) {
      assertTrue(Files.size(p) <= 400, p + " is " + Files.size(p) + " bytes");
    }
    assertEquals(written, allLines());
  }

  @Test
  void theMidnightCutNamesTheDayThatEnded() throws Exception {
    MainLogAppender.rotation(new LogRotation(0, 10));
    List<String> day1 = writeLines(0, 3);
    clock.advance(Duration.ofHours(3)); // 01:00 on 2026-12-07
    List<String> day2 = writeLines(3, 5);
    assertEquals(day1, Files.readAllLines(dir.resolve("mainlog.2026-12-06")));
    assertEquals(day2, Files.readAllLines(mainlog));
  }

  @Test
  void copiesOlderThanTheKeptDaysArePrunedAtACut() throws Exception {
    for (String name : List.of("mainlog.2026-11-20", "mainlog.2026-11-20.1", "mainlog.2026-11-30", "mainlog.2026-12-01",
        "mainlog.2026-12-02", "mainlog.notes", "mainlog.2026-11-01.gz", "paniclog")) {
      Files.writeString(dir.resolve(name), "old\n");
    }
    MainLogAppender.rotation(new LogRotation(0, 5));
    writeLines(0, 1);
    clock.advance(Duration.ofHours(3));
    writeLines(1, 2);
    try (Stream<Path> s = Files.list(dir)) {
      assertEquals(List.of("mainlog", "mainlog.2026-11-01.gz", "mainlog.2026-12-02", "mainlog.2026-12-06",
              "mainlog.notes", "paniclog"),
          s.map(p -> p.getFileName().toString()).sorted().toList(),
          "kept: the 5 days before 2026-12-07 (12-02 to 12-06) and what is not a rotated copy");
    }
  }

  @Test
  void withoutRotationSettingsAProcessNeverRenames() throws Exception {
    List<String> day1 = writeLines(0, 3);
    clock.advance(Duration.ofDays(2));
    List<String> later = writeLines(3, 6);
    List<String> all = new ArrayList<>(day1);
    all.addAll(later);
    assertEquals(List.of(mainlog), files());
    assertEquals(all, Files.readAllLines(mainlog));
  }

  @Test
  void aFileRenamedByAnotherProcessIsReopenedWithinASecond() throws Exception {
    List<String> before = writeLines(0, 2);
    Files.move(mainlog, dir.resolve("mainlog.2026-12-06"));
    List<String> stillOld = writeLines(2, 3);
    clock.advance(Duration.ofSeconds(1));
    List<String> after = writeLines(3, 5);
    List<String> old = new ArrayList<>(before);
    old.addAll(stillOld);
    assertEquals(old, Files.readAllLines(dir.resolve("mainlog.2026-12-06")), "lines up to the check go to the renamed file");
    assertEquals(after, Files.readAllLines(mainlog));
  }

  @Test
  void aReopenRequestTakesTheNewFileAtTheNextLine() throws Exception {
    writeLines(0, 2);
    Files.move(mainlog, dir.resolve("mainlog.1"));
    assertFalse(Files.exists(mainlog));
    MainLog.reopen();
    List<String> after = writeLines(2, 3);
    assertEquals(after, Files.readAllLines(mainlog));
  }
}
