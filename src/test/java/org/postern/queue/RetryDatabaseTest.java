package org.postern.queue;

import org.postern.config.RetryError;
import org.postern.config.RetryRule;
import org.postern.config.RetryRules;
import org.postern.config.RetrySchedule;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RetryDatabaseTest {
  private static final Instant T0 = Instant.parse("2026-01-05T10:00:00Z");
  private static final RetryRule DEFAULT = RetryRule.parse(RetryRules.DEFAULT_RULE, Duration.ofHours(24), new Random());
  private static final String HOST = "T:mx1.example.org:192.0.2.1";

  @TempDir
  Path spool;
  private RetryDatabase db;

  @BeforeEach
  void open() throws Exception {
    db = new RetryDatabase(spool, Duration.ofDays(7));
    db.load();
  }

  private RetryDatabase reopened() throws Exception {
    RetryDatabase again = new RetryDatabase(spool, Duration.ofDays(7));
    again.load();
    return again;
  }

  @Test
  void unknownDestinationIsDue() {
    assertTrue(db.isDue(HOST, T0));
    assertTrue(db.lookup(HOST, T0).isEmpty());
  }

  @Test
  void failedHostIsNotDueUntilItsRetryTimeAndThatSurvivesARestart() throws Exception {
    RetrySchedule.Outcome o = db.recordFailure(HOST, RetryError.REFUSED, "Connection refused", T0, DEFAULT);
    assertEquals(T0.plusSeconds(900), o.nextTry());
    assertFalse(o.giveUp());
    assertFalse(db.isDue(HOST, T0.plusSeconds(60)));
    assertFalse(db.isDue(HOST, T0.plusSeconds(899)));
    assertTrue(db.isDue(HOST, T0.plusSeconds(900)));

    RetryDatabase again = reopened();
    assertFalse(again.isDue(HOST, T0.plusSeconds(899)));
    assertEquals(new RetryRecord(HOST, T0, T0, T0.plusSeconds(900), false, RetryError.REFUSED, "Connection refused"),
        again.lookup(HOST, T0).orElseThrow());
  }

  @Test
  void laterFailuresKeepTheFirstFailureAndGiveUpPastTheFinalCutoff() throws Exception {
    db.recordFailure(HOST, RetryError.TIMEOUT, "timed out", T0, DEFAULT);
    Instant t = T0.plusSeconds(900);
    db.recordFailure(HOST, RetryError.TIMEOUT, "timed out again", t, DEFAULT);
    RetryRecord r = db.lookup(HOST, t).orElseThrow();
    assertEquals(T0, r.firstFailed());
    assertEquals(t, r.lastTry());
    assertEquals(t.plusSeconds(900), r.nextTry());
    assertEquals("timed out again", r.text());

    // Keep failing every 6 hours until past the 4-day cutoff.
    Instant now = t;
    RetrySchedule.Outcome o;
    do {
      now = now.plus(Duration.ofHours(6));
      o = db.recordFailure(HOST, RetryError.TIMEOUT, "timed out", now, DEFAULT);
    } while (!o.giveUp());
    assertTrue(Duration.between(T0, now).compareTo(Duration.ofDays(4)) > 0);
    assertTrue(Duration.between(T0, now).compareTo(Duration.ofDays(4).plusHours(6)) <= 0);
    assertTrue(o.expired());
    assertTrue(reopened().lookup(HOST, now).orElseThrow().expired());
  }

  @Test
  void successDeletesTheRecordOnDisk() throws Exception {
    db.recordFailure(HOST, RetryError.REFUSED, "Connection refused", T0, DEFAULT);
    assertEquals(1, jsonFiles().size());
    db.recordSuccess(HOST);
    assertTrue(db.isDue(HOST, T0));
    assertEquals(List.of(), jsonFiles());
    assertTrue(reopened().lookup(HOST, T0).isEmpty());
    db.recordSuccess("R:nobody@example.org");
  }

  @Test
  void noRuleMeansGiveUpAndNothingStored() throws Exception {
    RetrySchedule.Outcome o = db.recordFailure(HOST, RetryError.TIMEOUT, "x", T0, null);
    assertTrue(o.giveUp());
    assertEquals(List.of(), jsonFiles());
  }

  @Test
  void staleRecordsAreIgnoredAndTidied() throws Exception {
    db.recordFailure(HOST, RetryError.REFUSED, "refused", T0, DEFAULT);
    db.recordFailure("R:bob@example.org", RetryError.RCPT_4XX, "452 mailbox full", T0.plus(Duration.ofDays(5)),
        DEFAULT);
    Instant later = T0.plus(Duration.ofDays(7)).plusSeconds(1);
    assertTrue(db.lookup(HOST, later).isEmpty());
    assertEquals(List.of(HOST), db.tidy(later));
    assertEquals(1, jsonFiles().size());
    assertEquals(List.of("R:bob@example.org"), reopened().records().stream().map(RetryRecord::key).toList());
  }

  @Test
  void staleRecordStartsAFreshFailureHistory() throws Exception {
    db.recordFailure(HOST, RetryError.REFUSED, "refused", T0, DEFAULT);
    Instant later = T0.plus(Duration.ofDays(8));
    db.recordFailure(HOST, RetryError.REFUSED, "refused", later, DEFAULT);
    assertEquals(later, db.lookup(HOST, later).orElseThrow().firstFailed());
  }

  @Test
  void hostileErrorTextIsStoredPrintableAndTruncated() throws Exception {
    String text = "450 busy\r\nBcc: victim@example.net\u00e9" + "x".repeat(300);
    db.recordFailure(HOST, RetryError.OTHER, text, T0, DEFAULT);
    String stored = reopened().lookup(HOST, T0).orElseThrow().text();
    assertEquals(RetryRecord.MAX_TEXT, stored.length());
    assertTrue(stored.startsWith("450 busy\\r\\nBcc: victim@example.net\\303\\251xxx"), stored);
  }

  @Test
  void keysWithColonsSlashesAndLongNamesGetSafeFileNames() throws Exception {
    String v6 = "T:mx.example.org:2001:db8::1";
    String sneaky = "T:../../etc/passwd:192.0.2.1";
    String longKey = "R:" + "a".repeat(300) + "@example.org";
    db.recordFailure(v6, RetryError.TIMEOUT, "t", T0, DEFAULT);
    db.recordFailure(sneaky, RetryError.TIMEOUT, "t", T0, DEFAULT);
    db.recordFailure(longKey, RetryError.TIMEOUT, "t", T0, DEFAULT);
    List<String> names = jsonFiles().stream().map(p -> p.getFileName().toString()).sorted().toList();
    assertEquals(3, names.size());
    assertTrue(names.contains("T%3Amx.example.org%3A2001%3Adb8%3A%3A1.json"), names.toString());
    assertTrue(names.contains("T%3A..%2F..%2Fetc%2Fpasswd%3A192.0.2.1.json"), names.toString());
    assertTrue(names.stream().anyMatch(n -> n.matches("sha256-[0-9a-f]{64}\\.json")), names.toString());
    RetryDatabase again = reopened();
    for (String key : List.of(v6, sneaky, longKey)) {
      assertFalse(again.isDue(key, T0), key);
    }
  }

  @Test
  void unreadableAndLeftoverFilesAreRemovedAtLoad() throws Exception {
    db.recordFailure(HOST, RetryError.TIMEOUT, "t", T0, DEFAULT);
    Path dir = db.directory();
    Files.writeString(dir.resolve("garbage.json"), "{not json", StandardCharsets.UTF_8);
    Files.writeString(dir.resolve("T%3Aother.json"), new JsonObject().put("key", "T:mismatch").encode());
    Files.writeString(dir.resolve("T%3Ahalf.json.tmp"), "{", StandardCharsets.UTF_8);
    RetryDatabase again = reopened();
    assertEquals(List.of(HOST), again.records().stream().map(RetryRecord::key).toList());
    assertEquals(1, jsonFiles().size());
    try (Stream<Path> all = Files.list(dir)) {
      assertEquals(1, all.count());
    }
  }

  @Test
  void oldMessagesMayTryAWaitingHostUnlessItExpired() throws Exception {
    db.recordFailure(HOST, RetryError.TIMEOUT, "t", T0, DEFAULT);
    Instant soon = T0.plusSeconds(60);
    assertFalse(db.isDue(HOST, soon, soon.minus(Duration.ofDays(1)), DEFAULT));
    assertFalse(db.isDue(HOST, soon, soon.minus(Duration.ofDays(4)), DEFAULT), "exactly the cutoff is within it");
    assertTrue(db.isDue(HOST, soon, soon.minus(Duration.ofDays(4)).minusSeconds(1), DEFAULT));
    assertTrue(db.isDue(HOST, soon, soon, null), "no rule: nothing to wait for");
    assertFalse(db.isExpired(HOST, soon));

    RetrySchedule.Outcome o = db.recordFailure(HOST, RetryError.TIMEOUT, "t", T0.plus(Duration.ofDays(5)), DEFAULT);
    assertTrue(o.expired());
    Instant later = T0.plus(Duration.ofDays(5)).plusSeconds(60);
    assertTrue(db.isExpired(HOST, later));
    assertFalse(db.isDue(HOST, later, T0.minus(Duration.ofDays(30)), DEFAULT), "expired hosts wait for their time");
    assertTrue(db.isDue(HOST, o.nextTry(), T0, DEFAULT));
  }

  @Test
  void keysAreEximsShape() {
    assertEquals("T:mx1.example.org:192.0.2.1", RetryDatabase.hostKey("MX1.Example.ORG", "192.0.2.1", 25));
    assertEquals("T:mx1.example.org:2001:db8::1:587", RetryDatabase.hostKey("mx1.example.org", "2001:db8::1", 587));
    assertEquals("R:bob@example.org", RetryDatabase.addressKey("bob@example.org"));
  }

  private List<Path> jsonFiles() throws Exception {
    try (Stream<Path> s = Files.list(spool.resolve("db").resolve("retry"))) {
      return s.filter(p -> p.toString().endsWith(".json")).toList();
    }
  }

  // ------------------------------------------------------------------ one database for every process

  @Test
  void aFailureAfterAnotherProcessClearedTheRecordStartsAFreshHistory() throws Exception {
    db.recordFailure(HOST, RetryError.REFUSED, "Connection refused", T0, DEFAULT);
    reopened().recordSuccess(HOST); // -M delivered to the host meanwhile
    Instant later = T0.plus(Duration.ofHours(3));
    db.recordFailure(HOST, RetryError.REFUSED, "Connection refused", later, DEFAULT);
    assertEquals(later, db.lookup(HOST, later).orElseThrow().firstFailed());
  }

  @Test
  void aSuccessClearsARecordAnotherProcessWroteAfterThisOneLastLooked() throws Exception {
    RetryDatabase other = reopened(); // has read the records while there were none
    db.recordFailure(HOST, RetryError.REFUSED, "Connection refused", T0, DEFAULT);
    other.recordSuccess(HOST); // the change count tells it that its view is old
    assertEquals(List.of(), jsonFiles());
    assertTrue(reopened().lookup(HOST, T0).isEmpty());
  }

  @Test
  void aFailureAddsToTheHistoryAnotherProcessWrote() throws Exception {
    reopened().recordFailure(HOST, RetryError.REFUSED, "Connection refused", T0, DEFAULT);
    Instant later = T0.plusSeconds(900);
    db.recordFailure(HOST, RetryError.REFUSED, "Connection refused", later, DEFAULT);
    assertEquals(T0, db.lookup(HOST, later).orElseThrow().firstFailed());
    assertEquals(T0, reopened().lookup(HOST, later).orElseThrow().firstFailed());
  }

  @Test
  void refreshSeesWhatAnotherProcessWroteAndCleared() throws Exception {
    RetryDatabase other = reopened();
    other.recordFailure(HOST, RetryError.REFUSED, "Connection refused", T0, DEFAULT);
    db.refresh();
    assertFalse(db.isDue(HOST, T0.plusSeconds(60)), "a defer recorded elsewhere holds this process back");
    other.recordSuccess(HOST);
    db.refresh();
    assertTrue(db.isDue(HOST, T0.plusSeconds(60)), "a success elsewhere lets it through");
    assertTrue(Files.exists(spool.resolve("db").resolve("retry.lockfile")));
  }

  @Test
  void writersInTwoProcessesLoseNoRecordAndKeepTheFirstFailure() throws Exception {
    int count = 150;
    Process a = writer("a", count);
    Process b = writer("b", count);
    String firstA = output(a);
    String firstB = output(b);
    Instant first = Instant.parse(firstA).isBefore(Instant.parse(firstB)) ? Instant.parse(firstA) : Instant.parse(firstB);
    RetryDatabase after = reopened();
    Instant now = Instant.now();
    for (String name : List.of("a", "b")) {
      for (int i = 0; i < count; i++) {
        assertTrue(after.lookup(RetryDatabase.addressKey(name + "-" + i + "@example.org"), now).isPresent(), name + i);
      }
    }
    assertEquals(first, after.lookup(RetryHintsWriter.SHARED, now).orElseThrow().firstFailed(),
        "the shared host's history starts at the first failure of either process");
  }

  private Process writer(String name, int count) throws Exception {
    return new ProcessBuilder(org.postern.testing.ChildPostern.javaBinary(), "-Xmx64m", "-XX:TieredStopAtLevel=1",
        "-cp", org.postern.testing.ChildPostern.classPath(), RetryHintsWriter.class.getName(), spool.toString(), name,
        String.valueOf(count))
        .redirectError(spool.resolve("writer-" + name + ".stderr").toFile()).start();
  }

  private String output(Process p) throws Exception {
    assertTrue(p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS), "writer ended");
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertEquals(0, p.exitValue(), () -> "writer failed: " + out + "\n" + stderrOf(p));
    return out;
  }

  private String stderrOf(Process p) {
    try (Stream<Path> files = Files.list(spool)) {
      StringBuilder sb = new StringBuilder();
      for (Path f : files.filter(f -> f.getFileName().toString().endsWith(".stderr")).toList()) {
        sb.append(Files.readString(f));
      }
      return sb.toString();
    } catch (java.io.IOException e) {
      return e.toString();
    }
  }
}
