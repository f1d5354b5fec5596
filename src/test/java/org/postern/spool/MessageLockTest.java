package org.postern.spool;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postern.testing.ChildPostern;
import org.postern.testing.MessageLockHolder;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link MessageLock} between this JVM and a child JVM ({@link MessageLockHolder}) on a real spool. */
@Timeout(120)
class MessageLockTest {
  private static final String ID = "1abcDE-0000AB-Cd00";
  private Path root;
  private Spool spool;
  private Process holder;

  @BeforeEach
  void setUp() throws Exception {
    root = Files.createTempDirectory("postern-lock");
    spool = new Spool(root.resolve("spool"));
    spool.create();
    Files.writeString(spool.envelopeFile(ID), "{}");
    Files.writeString(spool.dataFile(ID), "content");
  }

  @AfterEach
  void tearDown() throws Exception {
    if (holder != null) {
      holder.destroyForcibly();
      holder.waitFor(30, TimeUnit.SECONDS);
    }
    try (var walk = Files.walk(root)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  @Test
  void childHoldingTheLockKeepsThisJvmOutUntilItIsKilled() throws Exception {
    holder = child("hold");
    assertEquals("locked", firstLine(holder));
    assertTrue(MessageLock.tryLock(spool, ID).isEmpty(), "the child holds the lock");
    // SIGKILL: no clean-up code runs; the kernel releases the lock with the process.
    holder.destroyForcibly();
    assertTrue(holder.waitFor(30, TimeUnit.SECONDS));
    Optional<MessageLock> lock = MessageLock.tryLock(spool, ID);
    assertTrue(lock.isPresent(), "lock free after the holder died");
    lock.get().close();
  }

  @Test
  void lockHeldHereKeepsTheChildOutUntilClosed() throws Exception {
    MessageLock lock = MessageLock.tryLock(spool, ID).orElseThrow();
    Process probe = child("probe");
    assertEquals("busy", firstLine(probe));
    assertEquals(1, exit(probe));
    lock.close();
    Process again = child("probe");
    assertEquals("locked", firstLine(again));
    assertEquals(0, exit(again));
  }

  @Test
  void secondTryLockInThisJvmIsRefusedAndDoesNotDropTheFirst() throws Exception {
    try (MessageLock lock = MessageLock.tryLock(spool, ID).orElseThrow()) {
      assertEquals(ID, lock.id());
      assertTrue(MessageLock.tryLock(spool, ID).isEmpty(), "held in this JVM");
      // The refused attempt must not have released the first holder's fcntl lock.
      Process probe = child("probe");
      assertEquals("busy", firstLine(probe));
      assertEquals(1, exit(probe));
    }
    try (MessageLock again = MessageLock.tryLock(spool, ID).orElseThrow()) {
      assertEquals(ID, again.id());
    }
  }

  @Test
  void locksOfDifferentMessagesAreIndependent() throws Exception {
    String other = "1abcDE-0000AB-Cd01";
    try (MessageLock a = MessageLock.tryLock(spool, ID).orElseThrow();
         MessageLock b = MessageLock.tryLock(spool, other).orElseThrow()) {
      assertEquals(List.of(ID, other), List.of(a.id(), b.id()));
    }
  }

  @Test
  void oneLockFileServesEveryMessageAndNothingLandsInInput() throws Exception {
    List<MessageLock> held = new java.util.ArrayList<>();
    for (int i = 0; i < 200; i++) {
      held.add(MessageLock.tryLock(spool, String.format("1abcDE-0000AB-%04d", i)).orElseThrow());
    }
    for (MessageLock lock : held) {
      lock.close();
    }
    try (var files = Files.list(spool.lockFile().getParent())) {
      assertEquals(List.of(spool.lockFile()), files.toList());
    }
    try (var files = Files.list(spool.inputDirectory())) {
      assertEquals(2, files.count(), "only the message's own -D and -H");
    }
  }

  @Test
  void closingOneLockKeepsTheOthersOfThisJvm() throws Exception {
    String other = "1abcDE-0000AB-Cd01";
    MessageLock first = MessageLock.tryLock(spool, other).orElseThrow();
    try (MessageLock lock = MessageLock.tryLock(spool, ID).orElseThrow()) {
      first.close();
      // A lock file descriptor closed too early would have dropped this one too.
      Process probe = child("probe");
      assertEquals("busy", firstLine(probe));
      assertEquals(1, exit(probe));
    }
  }

  @Test
  void positionsAreStableAndSpread() {
    assertEquals(MessageLock.position(ID), MessageLock.position(new String(ID.toCharArray())));
    java.util.Set<Long> seen = new java.util.HashSet<>();
    for (int i = 0; i < 100_000; i++) {
      long p = MessageLock.position(String.format("1xXRTz-3iC1Xu-%05d", i));
      assertTrue(p >= 0 && p < (1L << 62), "a valid fcntl offset");
      seen.add(p);
    }
    assertEquals(100_000, seen.size());
  }

  @Test
  void invalidIdIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> MessageLock.tryLock(spool, "../../etc/passwd"));
  }

  private Process child(String mode) throws Exception {
    return new ProcessBuilder(ChildPostern.javaBinary(), "-Xmx64m", "-cp", ChildPostern.classPath(),
        MessageLockHolder.class.getName(), root.resolve("spool").toString(), ID, mode)
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
  }

  private static String firstLine(Process p) throws Exception {
    BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    return r.readLine();
  }

  private static int exit(Process p) throws Exception {
    assertTrue(p.waitFor(30, TimeUnit.SECONDS), "child ended");
    return p.exitValue();
  }
}
