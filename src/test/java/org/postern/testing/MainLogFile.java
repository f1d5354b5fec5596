package org.postern.testing;

import org.postern.log.MainLog;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * A main log as a test reads it. Every {@link PosternTestServer} of a test JVM writes to one file
 * ({@code postern.log.dir}, {@link #ofTestJvm()}); a {@link ChildPostern} writes its own. The log is
 * written asynchronously, so a test waits for the line it expects ({@link #await}) before it
 * asserts: the line that ends a message's story ({@code Completed}, {@code **}, a rejection, ...)
 * is the event that makes "nothing else happened" a fact.
 */
public final class MainLogFile {
  private static final MainLogFile TEST_JVM =
      new MainLogFile(Path.of(System.getProperty("postern.log.dir", "target/test-logs"), "mainlog"));

  private final Path file;
  private final int skipped;

  public MainLogFile(Path file) {
    this(file, 0);
  }

  private MainLogFile(Path file, int skipped) {
    this.file = file;
    this.skipped = skipped;
  }

  /** The main log of the servers started in this JVM. */
  public static MainLogFile ofTestJvm() {
    return TEST_JVM;
  }

  /**
   * Waits until every main-log line this JVM's servers wrote before the call is in the file: writes
   * a marker line and waits for it, as the asynchronous appender keeps the order of the lines. The
   * event that lets a test say "nothing was logged" of a log it did not see end.
   */
  public static void awaitLoggedSoFar(long millis) throws Exception {
    String marker = "test marker " + java.util.UUID.randomUUID() + ": the lines above were written";
    MainLog.write(marker);
    TEST_JVM.await(millis, marker);
  }

  public Path file() {
    return file;
  }

  /**
   * This log without the lines written so far: for a line that is not unique to one test (a
   * refusal without a message id), waiting on {@code fromNow()} taken before the action finds the
   * line the action caused.
   */
  public MainLogFile fromNow() throws IOException {
    return new MainLogFile(file, skipped + lines().size());
  }

  /** Every line as of now (after the skipped ones); none when the file does not exist yet. */
  public List<String> lines() throws IOException {
    if (!Files.exists(file)) {
      return List.of();
    }
    List<String> all = Files.readAllLines(file, StandardCharsets.UTF_8);
    return all.subList(Math.min(skipped, all.size()), all.size());
  }

  /** The lines as of now that contain every one of {@code texts}. */
  public List<String> lines(String... texts) throws IOException {
    return lines().stream().filter(l -> containsAll(l, texts)).toList();
  }

  /** The first line containing every one of {@code texts}, waiting up to {@code millis}; empty if none came. */
  public Optional<String> find(long millis, String... texts) throws Exception {
    List<String> found = Await.value(millis, () -> lines(texts), l -> !l.isEmpty());
    return found.stream().findFirst();
  }

  /** The first line containing every one of {@code texts}, waiting up to {@code millis}; fails if none came. */
  public String await(long millis, String... texts) throws Exception {
    return find(millis, texts).orElseThrow(() -> new AssertionError(
        "no line of " + file + " with " + Arrays.asList(texts) + " within " + millis + " ms"));
  }

  /** Waits for {@code <id> Completed}: the message has left the spool and nothing more happens to it. */
  public String awaitCompleted(String id, long millis) throws Exception {
    return await(millis, id + " Completed");
  }

  /**
   * The event of a line: the line without the date and time the main log writes before it
   * ({@code yyyy-MM-dd HH:mm:ss }), for a test that asserts the whole event.
   */
  public static String event(String line) {
    return line.split(" ", 3)[2];
  }

  private static boolean containsAll(String line, String... texts) {
    for (String t : texts) {
      if (!line.contains(t)) {
        return false;
      }
    }
    return true;
  }
}
