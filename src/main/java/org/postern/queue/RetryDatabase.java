package org.postern.queue;

import io.vertx.core.json.JsonObject;
import org.postern.config.RetryError;
import org.postern.config.RetryRule;
import org.postern.config.RetrySchedule;
import org.postern.spool.DirectorySync;
import org.postern.spool.DurableFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Exim's retry hints database: per-host records ({@code T:host:ip}) and per-address records
 * ({@code R:user@domain}), one JSON file per key under {@code <spool>/db/retry/}, so that a host
 * that is down is not hammered after a restart either. Each write goes to a temporary file that is
 * fsynced and renamed over the old one, then the directory is fsynced.
 *
 * <p>As Exim's hints database, it is shared by every process on the spool: the daemon, {@code -M},
 * {@code -q}, a second daemon. Every read-modify-write holds an fcntl lock on
 * {@code <spool>/db/retry.lockfile} (Exim's name), reads the records again when another process
 * changed them, and then bumps the change count kept in that file's first 8 bytes. Lookups answer
 * from memory, so they may run on an event loop; {@link #refresh} (blocking) brings that view up
 * to date when the count moved, and callers run it before each delivery attempt: a defer written
 * by {@code -M} then holds the daemon back, and a success of {@code -M} lets it through.
 *
 * <p>Every method that touches files blocks: call them from a worker ({@code executeBlocking}),
 * never on an event loop. The in-memory view is thread-safe; writes are serialised, in this JVM by
 * one monitor per database file (fcntl locks belong to the process, and closing any channel of
 * the file drops them all), between processes by the file lock.
 * Records not updated for {@code retry_data_expire} are ignored, as in Exim, and removed by
 * {@link #tidy}.
 *
 * <p>When {@link #recordFailure} says to give up, the caller fails the address with Exim's
 * wording, {@code retry timeout exceeded} ({@link #RETRY_TIMEOUT_EXCEEDED}).
 */
public final class RetryDatabase {
  private static final Logger LOG = LoggerFactory.getLogger(RetryDatabase.class);
  private static final int MAX_FILE_NAME = 200;
  /** Exim's reason for an address failed by its retry rule. */
  public static final String RETRY_TIMEOUT_EXCEEDED = "retry timeout exceeded";

  /** One monitor per lock file for the whole JVM: see the class comment. */
  private static final Map<Path, Object> MONITORS = new ConcurrentHashMap<>();

  private final Path directory;
  private final Path lockFile;
  private final Object monitor;
  private final Duration dataExpire;
  private final DirectorySync directorySync;
  private volatile Map<String, RetryRecord> records = new ConcurrentHashMap<>();
  /** The change count {@link #records} reflects; guarded by {@link #monitor}. */
  private long generation = -1;

  /**
   * @param spoolDirectory the spool; records live in its {@code db/retry} subdirectory
   * @param dataExpire     Exim's {@code retry_data_expire}
   */
  public RetryDatabase(Path spoolDirectory, Duration dataExpire) {
    this.directory = spoolDirectory.resolve("db").resolve("retry");
    this.lockFile = directory.resolveSibling("retry.lockfile").toAbsolutePath().normalize();
    this.monitor = MONITORS.computeIfAbsent(lockFile, f -> new Object());
    this.dataExpire = dataExpire;
    this.directorySync = DirectorySync.of(directory);
  }

  public Path directory() {
    return directory;
  }

  /**
   * Creates the directory and reads every record. Unreadable files and temporary files left by a
   * crash are removed (under the lock, so no other process is writing them): these are hints, and
   * losing one only means an early retry. Blocking.
   */
  public void load() throws IOException {
    Files.createDirectories(directory);
    locked(lock -> {
      removeLeftovers(); // locked() has just read the records: the leftovers were skipped
      return null;
    });
  }

  /**
   * Reads the records again if another process (or another database object on this spool)
   * changed them since this one last looked: one read of 8 bytes when nothing changed. Blocking.
   */
  public void refresh() throws IOException {
    synchronized (monitor) {
      if (changeCount() != generation) {
        locked(lock -> null); // reads them again, under the lock
      }
    }
  }

  /** The change count in the lock file, read without the lock (0 when there is no file yet). */
  private long changeCount() throws IOException {
    try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.READ)) {
      return ChangeCount.read(channel);
    } catch (NoSuchFileException none) {
      return 0;
    }
  }

  /** The record for a key, unless there is none or it is older than {@code retry_data_expire}. */
  public Optional<RetryRecord> lookup(String key, Instant now) {
    RetryRecord r = records.get(key);
    if (r == null || stale(r, now)) {
      return Optional.empty();
    }
    return Optional.of(r);
  }

  /** False while the destination waits for its next retry time: a dead host is not hammered. */
  public boolean isDue(String key, Instant now) {
    return lookup(key, now).map(r -> !now.isBefore(r.nextTry())).orElse(true);
  }

  /**
   * As {@link #isDue(String, Instant)}, plus Exim's ultimate address timeout
   * ({@code retry_ultimate_address_timeout()}): a message queued for longer than the final cutoff
   * of its rule may try a destination that is not yet due, unless that destination has expired,
   * so that its next failure can time the address out instead of leaving it queued forever.
   */
  public boolean isDue(String key, Instant now, Instant messageArrival, RetryRule rule) {
    Optional<RetryRecord> r = lookup(key, now);
    if (r.isEmpty() || !now.isBefore(r.get().nextTry())) {
      return true;
    }
    if (r.get().expired()) {
      return false;
    }
    return rule == null
        || Duration.between(messageArrival, now).compareTo(rule.schedule().finalCutoff()) > 0;
  }

  /**
   * True when the destination is past the final cutoff of its rule. With Exim's
   * {@code delay_after_cutoff} (the default), an address whose hosts are all expired and not yet
   * due is failed at once ("retry timeout exceeded") without an attempt.
   */
  public boolean isExpired(String key, Instant now) {
    return lookup(key, now).map(RetryRecord::expired).orElse(false);
  }

  /** Exim's host key, {@code T:host:ip}, with {@code :port} appended for a port other than 25. */
  public static String hostKey(String hostName, String ipAddress, int port) {
    return "T:" + hostName.toLowerCase(java.util.Locale.ROOT) + ":" + ipAddress + (port == 25 ? "" : ":" + port);
  }

  /** Exim's address key, {@code R:user@domain} (or {@code R:domain} for a routing failure of a domain). */
  public static String addressKey(String addressOrDomain) {
    return "R:" + addressOrDomain;
  }

  /** Records a failure without message context; see the full form. Blocking. */
  public RetrySchedule.Outcome recordFailure(String key, RetryError error, String text, Instant now, RetryRule rule)
      throws IOException {
    return recordFailure(key, error, text, now, rule, null);
  }

  /**
   * Records a temporary failure and computes the next retry time with the rule's schedule
   * ({@link RetrySchedule#next(Instant, Instant, Instant, Instant, Instant, boolean)}). With no rule,
   * nothing is stored and the outcome is to give up, as in Exim. Blocking.
   *
   * @param messageArrival arrival time of the message being delivered, or null
   * @return whether to give up on the address now, and the next retry time
   */
  public RetrySchedule.Outcome recordFailure(String key, RetryError error, String text, Instant now, RetryRule rule,
                                             Instant messageArrival) throws IOException {
    if (rule == null) {
      return new RetrySchedule.Outcome(now, true, true);
    }
    return locked(lock -> {
      RetryRecord old = lookup(key, now).orElse(null);
      // Another process may have read its clock before this one and taken the lock after it: the
      // history starts at the earliest failure either saw, not at whichever wrote first.
      Instant first = old == null || now.isBefore(old.firstFailed()) ? now : old.firstFailed();
      Instant last = old == null ? now : old.lastTry();
      Instant predicted = old == null ? now : old.nextTry();
      RetrySchedule.Outcome outcome = rule.schedule().next(first, last, predicted, now, messageArrival,
          key.startsWith("T:"));
      RetryRecord updated = new RetryRecord(key, first, now, outcome.nextTry(), outcome.expired(), error,
          printable(text));
      write(updated);
      records.put(key, updated);
      lock.changed();
      return outcome;
    });
  }

  /** A delivery to the destination worked: its record goes. Blocking. */
  public void recordSuccess(String key) throws IOException {
    synchronized (monitor) {
      // The usual success, to a destination without a record: when the change count shows that no
      // one changed the records since this object read them, there is nothing to remove, and the
      // lock, the directory creation and the file look-up (twice per relayed message) are spared.
      if (!records.containsKey(key) && changeCount() == generation) {
        return;
      }
    }
    locked(lock -> {
      if (records.remove(key) != null || Files.exists(fileFor(key))) {
        Files.deleteIfExists(fileFor(key));
        directorySync.sync();
        lock.changed();
      }
      return null;
    });
  }

  /** Removes records older than {@code retry_data_expire}; returns their keys. Blocking. */
  public List<String> tidy(Instant now) throws IOException {
    return locked(lock -> {
      List<String> removed = new ArrayList<>();
      for (RetryRecord r : List.copyOf(records.values())) {
        if (stale(r, now)) {
          records.remove(r.key());
          Files.deleteIfExists(fileFor(r.key()));
          removed.add(r.key());
        }
      }
      if (!removed.isEmpty()) {
        directorySync.sync();
        lock.changed();
      }
      return removed;
    });
  }

  /** Every live record, for listing tools such as Exim's {@code exinext}. */
  public List<RetryRecord> records() {
    return List.copyOf(records.values());
  }

  private boolean stale(RetryRecord r, Instant now) {
    return Duration.between(r.lastTry(), now).compareTo(dataExpire) > 0;
  }

  /** Work done under the database lock, with the records up to date. */
  private interface LockedWork<T> {
    T run(ChangeCount lock) throws IOException;
  }

  /**
   * Runs {@code work} holding this JVM's monitor and the fcntl lock of {@code retry.lockfile},
   * after reading the records again if another process changed them.
   */
  private <T> T locked(LockedWork<T> work) throws IOException {
    synchronized (monitor) {
      Files.createDirectories(directory);
      try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.READ,
          StandardOpenOption.WRITE)) {
        channel.lock(); // waits for another process's writer; released when the channel closes
        ChangeCount count = new ChangeCount(channel);
        if (count.generation() != generation) {
          reload(count.generation());
        }
        return work.run(count);
      }
    }
  }

  /**
   * The change count in the lock file's first 8 bytes: every process bumps it after it changed a
   * record, under the lock, so a reader that sees the count it knows has nothing to read again.
   * It needs no fsync: after a crash every process loads the records anew.
   */
  private final class ChangeCount {
    private final FileChannel channel;
    private final long read;

    private ChangeCount(FileChannel channel) throws IOException {
      this.channel = channel;
      this.read = read(channel);
    }

    long generation() {
      return read;
    }

    /** Called after a change: the records in memory are the new state, and the file says so. */
    void changed() throws IOException {
      generation = read + 1;
      ByteBuffer b = ByteBuffer.allocate(Long.BYTES).putLong(0, generation);
      while (b.hasRemaining()) {
        channel.write(b, b.position());
      }
    }

    static long read(FileChannel channel) throws IOException {
      ByteBuffer b = ByteBuffer.allocate(Long.BYTES);
      while (b.hasRemaining() && channel.read(b, b.position()) >= 0) {
        // Reads until 8 bytes or the end; a new, empty file counts 0.
      }
      return b.hasRemaining() ? 0 : b.getLong(0);
    }
  }

  /** Reads every record into a new view (lookups never see a half-read one). Caller holds the lock. */
  private void reload(long newGeneration) throws IOException {
    Map<String, RetryRecord> fresh = new ConcurrentHashMap<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(directory, "*.json")) {
      for (Path f : files) {
        try {
          RetryRecord r = RetryRecord.fromJson(new JsonObject(Files.readString(f, StandardCharsets.UTF_8)));
          if (r.key() != null && fileFor(r.key()).equals(f)) {
            fresh.put(r.key(), r);
          }
        } catch (RuntimeException unreadable) {
          // load() removes it; until then it is no record.
        }
      }
    }
    records = fresh;
    generation = newGeneration;
  }

  /** Temporary files of a crashed write and unreadable records go. Caller holds the lock. */
  private void removeLeftovers() throws IOException {
    try (DirectoryStream<Path> files = Files.newDirectoryStream(directory)) {
      for (Path f : files) {
        String name = f.getFileName().toString();
        if (!name.endsWith(".json")) {
          Files.deleteIfExists(f);
          continue;
        }
        try {
          RetryRecord r = RetryRecord.fromJson(new JsonObject(Files.readString(f, StandardCharsets.UTF_8)));
          if (r.key() == null || !fileFor(r.key()).equals(f)) {
            throw new IllegalStateException("key does not match the file name");
          }
        } catch (RuntimeException e) {
          LOG.warn("removing unreadable retry record {}: {}", f, e.toString());
          Files.deleteIfExists(f);
        }
      }
    }
  }

  private void write(RetryRecord r) throws IOException {
    Files.createDirectories(directory);
    Path target = fileFor(r.key());
    Path tmp = directory.resolve(target.getFileName() + ".tmp");
    DurableFile.write(tmp, r.toJson().encode().getBytes(StandardCharsets.UTF_8), false);
    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    directorySync.sync();
  }

  /**
   * The file of a key: the key with everything but {@code [A-Za-z0-9._@-]} percent-encoded (keys
   * hold colons, IPv6 addresses and whatever a remote name contains), or a SHA-256 when too long.
   */
  Path fileFor(String key) {
    StringBuilder sb = new StringBuilder();
    for (byte b : key.getBytes(StandardCharsets.UTF_8)) {
      char c = (char) (b & 0xff);
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_'
          || c == '@' || c == '-') {
        sb.append(c);
      } else {
        sb.append('%').append(String.format("%02X", b & 0xff));
      }
    }
    String name = sb.toString();
    if (name.length() > MAX_FILE_NAME || name.startsWith(".")) {
      try {
        name = "sha256-" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
            .digest(key.getBytes(StandardCharsets.UTF_8)));
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    }
    return directory.resolve(name + ".json");
  }

  /** Exim's {@code string_printing}: control and non-ASCII characters escaped, then truncated. */
  static String printable(String text) {
    String p = PrintableText.escape(text == null ? "" : text);
    return p.length() > RetryRecord.MAX_TEXT ? p.substring(0, RetryRecord.MAX_TEXT) : p;
  }
}
