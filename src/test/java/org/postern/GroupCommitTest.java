package org.postern;

import org.junit.jupiter.api.Test;
import org.postern.testing.Await;
import org.postern.testing.ChildPostern;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The durability rule under group commit, proven from what the kernel was asked to do: the daemon
 * runs under {@code strace -f} while many sessions send at once and is killed with SIGKILL mid-load.
 * The spool's commit rule ({@link org.postern.spool.Spool}): for every message that got 250 after
 * DATA, the record must show a sync of its content ({@code -D}) and one of its envelope
 * ({@code -T}, or {@code -H} once renamed) that each <em>began after the last write to that
 * file</em>, and an fsync of the directory that <em>began after the rename</em> that publishes the
 * envelope as {@code -H}, all returned before the 250 was written. They may run in any order and
 * together (one round); the rename may come before the file syncs because the envelope is sealed
 * (the content's length and checksum, its own checksum), which the spool after the kill must show
 * too. A directory fsync shared by many sessions covers only the renames made before it began; a
 * session that rides on one already under way is not covered. A SIGKILL cannot show a missing
 * fsync (the page cache survives it), so the record is the proof; the spool after the kill is
 * checked too.
 */
class GroupCommitTest {
  private static final Pattern LINE = Pattern.compile("^(\\d+)\\s+(\\d+)\\.(\\d{6}) (.*)$");
  private static final Pattern DURATION = Pattern.compile("<(\\d+)\\.(\\d{6})>$");
  private static final Pattern RESUMED = Pattern.compile("^<\\.\\.\\. (\\w+) resumed>(.*)$");
  private static final Pattern SYNC = Pattern.compile("^f(?:data)?sync\\(\\d+<([^>]*)>\\) = 0");
  private static final Pattern WRITE = Pattern.compile("^(?:write|writev|pwrite64|pwritev)\\(\\d+<([^>]*)>");
  private static final Pattern RENAME = Pattern.compile("^rename\\(\"([^\"]+)-T\", \"([^\"]+)-H\"\\) = 0");
  private static final Pattern REPLY = Pattern.compile("^(?:write|writev|sendmsg|sendto)\\(\\d+<(?:socket|TCP)[^>]*>.*"
      + "\"250 [0-9.]* ?OK id=([0-9A-Za-z]{6}-[0-9A-Za-z]{6}-[0-9A-Za-z]{4})");

  private final Set<String> acked = ConcurrentHashMap.newKeySet();

  /** One system call: what it was, when it began and when it returned (microseconds). */
  private record Call(String text, long entry, long exit) {
  }

  @Test
  void everyAcknowledgedMessageWaitedForADirectoryFsyncThatBeganAfterItsRename() throws Exception {
    sendKillAndCheck(16, 300, false);
  }

  /**
   * One session (the latency case): each message's commit is one round, its file syncs begun after
   * the rename, together with the directory's; the rule above holds all the same.
   */
  @Test
  void oneSessionCommitsEachMessageInOneRoundOfSyncs() throws Exception {
    sendKillAndCheck(1, 60, true);
  }

  private void sendKillAndCheck(int clients, int messages, boolean oneRound) throws Exception {
    int port = ChildPostern.freePort();
    try (PosternTestServer server = PosternTestServer.create()
        .option("listeners", "{ smtp: { address: 127.0.0.1, port: " + port + " } }")
        .option("queue_only", "true")) {
      Path config = server.writeConfig();
      Path trace = server.root().resolve("strace.out");
      ChildPostern daemon = ChildPostern.daemonTraced(server.root(), config, port, trace,
          "fsync,fdatasync,rename,renameat,renameat2,write,writev,sendmsg,sendto");
      List<Throwable> errors;
      try {
        errors = sendThenKill(daemon, port, clients, messages);
      } finally {
        daemon.close();
      }
      String log = daemon.diagnostics();
      assertTrue(errors.isEmpty(), () -> "client errors before the kill: " + errors + "\n" + log);

      List<String> spool = server.spoolFiles();
      List<String> lost = acked.stream().filter(id -> !spool.contains(id + "-D") || !spool.contains(id + "-H"))
          .sorted().toList();
      assertTrue(lost.isEmpty(), () -> "acknowledged, not in the spool after SIGKILL: " + lost);
      Path input = server.spoolInput();
      List<String> unsealed = acked.stream().filter(id -> !sealed(input, id)).sorted().toList();
      assertTrue(unsealed.isEmpty(), () -> "acknowledged without the content's length and checksum in a sealed "
          + "envelope: " + unsealed);

      List<String> problems = checkOrder(Files.readAllLines(trace, StandardCharsets.UTF_8), oneRound);
      if (!problems.isEmpty()) {
        Path kept = Path.of("target", "test-logs", "GroupCommitTest-strace.out");
        Files.createDirectories(kept.getParent());
        Files.copy(trace, kept, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
      System.out.println("GroupCommitTest: " + acked.size() + " message(s) acknowledged by " + clients
          + " sessions, " + problems.size() + " without the syncs the rule requires");
      assertTrue(problems.isEmpty(), () -> problems.size() + " of " + acked.size()
          + " acknowledged message(s) broke the rule, e.g. " + problems.subList(0, Math.min(5, problems.size())));
    }
  }

  /**
   * For each acknowledged id, what the rule requires of the record; empty when all is well. With
   * {@code oneRound}, the file syncs must also have begun after the rename (the commit's one round).
   */
  private List<String> checkOrder(List<String> lines, boolean oneRound) {
    List<Call> calls = calls(lines);
    Map<String, Call> renames = new HashMap<>();
    Map<String, Call> replies = new HashMap<>();
    Map<String, List<Call>> syncs = new HashMap<>();
    Map<String, List<Call>> writes = new HashMap<>();
    for (Call c : calls) {
      Matcher m;
      if ((m = WRITE.matcher(c.text())).find() && !m.group(1).startsWith("socket") && !m.group(1).startsWith("TCP")) {
        writes.computeIfAbsent(m.group(1), k -> new ArrayList<>()).add(c);
      } else if ((m = RENAME.matcher(c.text())).find()) {
        renames.put(m.group(2), c);
      } else if ((m = REPLY.matcher(c.text())).find()) {
        replies.putIfAbsent(m.group(1), c);
      } else if ((m = SYNC.matcher(c.text())).find()) {
        syncs.computeIfAbsent(m.group(1), k -> new ArrayList<>()).add(c);
      }
    }
    List<String> problems = new ArrayList<>();
    for (String id : acked) {
      Call reply = replies.get(id);
      String base = renames.keySet().stream().filter(p -> p.endsWith("/" + id)).findFirst().orElse(null);
      if (reply == null || base == null) {
        problems.add(id + ": " + (reply == null ? "no 250 written" : "no rename of its envelope") + " in the record");
        continue;
      }
      Call rename = renames.get(base);
      String dir = base.substring(0, base.lastIndexOf('/'));
      long after = oneRound ? rename.exit() : Long.MIN_VALUE;
      long contentWritten = Math.max(after, lastWrite(writes.get(base + "-D"), reply.entry()));
      long envelopeWritten = Math.max(after, lastWrite(writes.get(base + "-T"), reply.entry()));
      List<Call> envelopeSyncs = new ArrayList<>(syncs.getOrDefault(base + "-T", List.of()));
      envelopeSyncs.addAll(syncs.getOrDefault(base + "-H", List.of()));
      if (lastWrite(writes.get(base + "-D"), reply.entry()) == Long.MIN_VALUE
          || lastWrite(writes.get(base + "-T"), reply.entry()) == Long.MIN_VALUE) {
        problems.add(id + ": no write of its content or envelope in the record");
      } else if (!syncedBefore(syncs.get(base + "-D"), contentWritten, reply.entry())) {
        problems.add(id + ": no sync of its content began after its last write" + (oneRound ? " and the rename" : "")
            + " and returned before the 250");
      } else if (!syncedBefore(envelopeSyncs, envelopeWritten, reply.entry())) {
        problems.add(id + ": no sync of its envelope began after its last write" + (oneRound ? " and the rename" : "")
            + " and returned before the 250");
      } else if (!syncedBefore(syncs.get(dir), rename.exit(), reply.entry())) {
        problems.add(id + ": no fsync of " + dir + " began after the rename and returned before the 250");
      }
    }
    return problems;
  }

  /** When the last of {@code writes} before {@code by} returned; MIN_VALUE when there is none. */
  private static long lastWrite(List<Call> writes, long by) {
    return writes == null ? Long.MIN_VALUE
        : writes.stream().filter(w -> w.exit() <= by).mapToLong(Call::exit).max().orElse(Long.MIN_VALUE);
  }

  /** The envelope on disk carries the content's length and checksum and its own checksum. */
  private static boolean sealed(Path input, String id) {
    try {
      io.vertx.core.json.JsonObject j = new io.vertx.core.json.JsonObject(Files.readString(input.resolve(id + "-H")));
      return j.containsKey("data_length") && j.containsKey("data_crc32c") && j.containsKey("crc32c")
          && Files.size(input.resolve(id + "-D")) == j.getLong("data_length");
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /** True when one of {@code syncs} began at or after {@code notBefore} and returned by {@code by}. */
  private static boolean syncedBefore(List<Call> syncs, long notBefore, long by) {
    return syncs != null && syncs.stream().anyMatch(s -> s.entry() >= notBefore && s.exit() <= by);
  }

  /**
   * strace's lines as calls: a call another thread interrupted is split into {@code <unfinished ...>}
   * (its entry) and {@code <... resumed>} (its return).
   */
  private static List<Call> calls(List<String> lines) {
    List<Call> calls = new ArrayList<>();
    Map<String, String[]> unfinished = new HashMap<>();
    for (String line : lines) {
      Matcher m = LINE.matcher(line);
      if (!m.matches()) {
        continue;
      }
      String pid = m.group(1);
      long at = Long.parseLong(m.group(2)) * 1_000_000 + Long.parseLong(m.group(3));
      String rest = m.group(4);
      if (rest.endsWith("<unfinished ...>")) {
        unfinished.put(pid, new String[] {rest.substring(0, rest.length() - "<unfinished ...>".length()),
            Long.toString(at)});
        continue;
      }
      Matcher resumed = RESUMED.matcher(rest);
      if (resumed.matches()) {
        String[] start = unfinished.remove(pid);
        if (start != null) {
          calls.add(new Call(start[0].stripTrailing() + resumed.group(2), Long.parseLong(start[1]), at));
        }
        continue;
      }
      Matcher d = DURATION.matcher(rest);
      long took = d.find() ? Long.parseLong(d.group(1)) * 1_000_000 + Long.parseLong(d.group(2)) : 0;
      calls.add(new Call(rest, at, at + took));
    }
    return calls;
  }

  /** Sessions that send until {@code messages} were acknowledged, then the SIGKILL while they still send. */
  private List<Throwable> sendThenKill(ChildPostern daemon, int port, int clients, int messages) throws Exception {
    AtomicBoolean killed = new AtomicBoolean();
    List<Throwable> errors = java.util.Collections.synchronizedList(new ArrayList<>());
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < clients; i++) {
      Thread t = new Thread(() -> clientLoop(port, killed, errors), "group-commit-client-" + i);
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }
    Await.until(messages + " messages acknowledged", 120_000, () -> acked.size() >= messages || !errors.isEmpty());
    killed.set(true);
    daemon.kill();
    for (Thread t : threads) {
      t.join(20_000);
      assertTrue(!t.isAlive(), t.getName() + " did not stop after the kill");
    }
    return errors;
  }

  private void clientLoop(int port, AtomicBoolean killed, List<Throwable> errors) {
    Pattern okId = Pattern.compile("OK id=(\\S+)");
    try (SmtpTestClient c = SmtpTestClient.connect(port)) {
      c.reply();
      c.command("EHLO group-commit.test");
      while (!killed.get()) {
        c.command("MAIL FROM:<load@test.example>");
        c.command("RCPT TO:<alice@test.example>");
        c.command("DATA");
        c.sendRaw(("Subject: group commit\r\n\r\n" + "x".repeat(4000) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        c.send(".\r\n");
        SmtpTestClient.Reply reply = c.reply();
        Matcher id = okId.matcher(reply.text());
        if (reply.code() == 250 && id.find()) {
          acked.add(id.group(1));
        } else if (!killed.get()) {
          errors.add(new AssertionError("after DATA: " + reply));
          return;
        }
      }
    } catch (IOException e) {
      if (!killed.get()) {
        errors.add(e);
      }
    }
  }
}
