package org.postern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.postern.testing.Await;
import org.postern.testing.ChildPostern;
import org.postern.testing.ChildPostern.Result;
import org.postern.testing.PosternTestServer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code postern -bs} and {@code postern -bS} as child processes, on a temporary configuration
 * (local domain test.example, users alice and bob, admin).
 */
class LocalSmtpTest {
  private PosternTestServer server;
  private Path config;

  @BeforeEach
  void setUp() throws Exception {
    server = PosternTestServer.create();
    config = server.writeConfig();
  }

  @AfterEach
  void tearDown() throws Exception {
    server.close();
  }

  /**
   * The scenarios, run once per way of giving the input: every test of {@code -bs} and {@code -bS}
   * sits here.
   */
  abstract class Scenarios {
    /** Runs postern with {@code input} on stdin. */
    abstract Result run(String input, String mode) throws Exception;

    /**
     * Runs a batch whose input ends inside DATA; {@code inData} tells when the child has read up to
     * the unterminated message (for feeders that must decide when the input ends).
     */
    abstract Result runUnterminated(String input, String mode, Check inData) throws Exception;

    // ---------------------------------------------------------------- -bs

    @Test
    void bsSessionDeliversToMaildir() throws Exception {
      Result r = run("EHLO local\r\nMAIL FROM:<me@test.example>\r\n"
          + "RCPT TO:<alice@test.example>\r\nDATA\r\nSubject: bs\r\n\r\nhello\r\n.\r\nQUIT\r\n", "-bs");
      assertEquals(0, r.exit(), r::toString);
      List<String> lines = replyLines(r);
      assertTrue(lines.get(0).startsWith("220 "), () -> "greeting first\n" + r);
      assertTrue(lines.stream().anyMatch(l -> l.startsWith("250-mx.test.example Hello local")), r::toString);
      assertTrue(lines.stream().anyMatch(l -> l.startsWith("354")), r::toString);
      assertTrue(lines.stream().anyMatch(l -> l.matches("250 2\\.0\\.0 OK id=[0-9A-Za-z]{6}-[0-9A-Za-z]{6}-[0-9A-Za-z]{4}")),
          r::toString);
      assertTrue(lines.get(lines.size() - 1).startsWith("221"), () -> "221 last\n" + r);
      // EHLO (multi-line), MAIL, RCPT, final dot: every reply of the session is a success.
      assertEquals(List.of(220, 250, 250, 250, 354, 250, 221), replyCodes(lines), r::toString);
      List<Path> box = server.mailbox("alice");
      assertEquals(1, box.size(), r::toString);
      String stored = Files.readString(box.get(0), StandardCharsets.UTF_8);
      assertTrue(stored.startsWith("Return-Path: <me@test.example>\r\nReceived: from local\r\n"), stored);
      assertTrue(stored.contains(" with local-esmtp "), stored);
      assertTrue(stored.endsWith("\r\nSubject: bs\r\n\r\nhello\r\n"), stored);
      String id = lines.stream().filter(l -> l.startsWith("250 2.0.0 OK id=")).findFirst().orElseThrow()
          .substring("250 2.0.0 OK id=".length());
      assertTrue(stored.contains("\tid " + id + "\r\n") || stored.contains("\tid " + id + ";"), stored);
      assertEquals(List.of(), server.spoolFiles(), "delivered message left in the spool");
    }

    @Test
    void bsUnknownLocalUserIsRefused() throws Exception {
      Result r = run("EHLO local\r\nMAIL FROM:<me@test.example>\r\n"
          + "RCPT TO:<nobody@test.example>\r\nDATA\r\nSubject: bs\r\n\r\nhello\r\n.\r\nQUIT\r\n", "-bs");
      List<String> lines = replyLines(r);
      assertTrue(lines.stream().anyMatch(l -> l.startsWith("550 5.1.1")), r::toString);
      assertTrue(lines.stream().noneMatch(l -> l.startsWith("354")), r::toString);
      assertTrue(lines.stream().noneMatch(l -> l.contains("OK id=")), r::toString);
      assertEquals(List.of(), allMaildirFiles(), r::toString);
      assertEquals(List.of(), server.spoolFiles(), r::toString);
    }

    // ---------------------------------------------------------------- -bS

    @Test
    void bsmtpThreeMessagesSilently() throws Exception {
      String batch = "HELO batch.example\r\n"
          + message("me@test.example", "alice@test.example", "one", "first\r\n..x\r\n")
          + message("me@test.example", "alice@test.example", "two", "second\r\n")
          + message("me@test.example", "bob@test.example", "three", "third\r\n")
          + "QUIT\r\n";
      Result r = run(batch, "-bS");
      assertEquals(0, r.exit(), r::toString);
      assertEquals("", r.stdout(), "-bS prints nothing when all goes well");
      List<String> alice = contents("alice");
      List<String> bob = contents("bob");
      assertEquals(2, alice.size(), r::toString);
      assertEquals(1, bob.size(), r::toString);
      String one = find(alice, "one");
      assertTrue(one.endsWith("\r\nSubject: one\r\n\r\nfirst\r\n.x\r\n"), "dot-stuffing undone:\n" + one);
      assertTrue(one.contains(" with local-"), one);
      assertTrue(find(alice, "two").endsWith("\r\n\r\nsecond\r\n"));
      assertTrue(find(bob, "three").endsWith("\r\n\r\nthird\r\n"));
      assertEquals(List.of(), server.spoolFiles(), r::toString);
    }

    @Test
    void bsmtpStopsAtUnknownRecipient() throws Exception {
      String batch = "HELO batch.example\r\n"
          + message("me@test.example", "alice@test.example", "one", "first\r\n")
          + message("me@test.example", "nobody@test.example", "two", "second\r\n")
          + message("me@test.example", "alice@test.example", "three", "third\r\n")
          + "QUIT\r\n";
      Result r = run(batch, "-bS");
      assertEquals(1, r.exit(), r::toString);
      assertTrue(r.stdout().contains("550"), () -> "report on stdout names the error\n" + r);
      assertTrue(r.stdout().contains("5.1.1"), r::toString);
      assertTrue(r.stderr().contains("550"), () -> "report on stderr names the error\n" + r);
      assertTrue(r.stdout().contains("1 previous message was successfully processed"), r::toString);
      List<String> alice = contents("alice");
      assertEquals(1, alice.size(), r::toString);
      assertTrue(alice.get(0).contains("\r\nSubject: one\r\n"), alice.get(0));
      assertEquals(List.of(), allMaildirFiles().stream().filter(p -> !p.startsWith("alice/")).toList());
      assertEquals(List.of(), server.spoolFiles(), "nothing of the abandoned messages stays in the spool");
    }

    @Test
    void bsmtpFirstCommandFails() throws Exception {
      String batch = "RCPT TO:<alice@test.example>\r\n"
          + message("me@test.example", "alice@test.example", "one", "first\r\n")
          + "QUIT\r\n";
      Result r = run(batch, "-bS");
      assertEquals(2, r.exit(), r::toString);
      assertTrue(r.stdout().contains("503"), r::toString);
      assertTrue(r.stderr().contains("503"), r::toString);
      assertTrue(r.stdout().contains("RCPT TO:<alice@test.example>"), () -> "report names the last command\n" + r);
      assertEquals(List.of(), allMaildirFiles(), r::toString);
    }

    @Test
    void bsmtpUnterminatedDataAfterAcceptedMessage() throws Exception {
      String batch = "HELO batch.example\r\n"
          + message("me@test.example", "alice@test.example", "one", "first\r\n")
          + "MAIL FROM:<me@test.example>\r\nRCPT TO:<alice@test.example>\r\nDATA\r\n"
          + "Subject: cut\r\n\r\n" + bigBody() + "no final dot\r\n";
      Result r = runUnterminated(batch, "-bS", () -> server.mailbox("alice").size() == 1 && spilledContent());
      assertEquals(1, r.exit(), r::toString);
      assertTrue(r.stdout().contains("not terminated"), r::toString);
      assertTrue(r.stderr().contains("not terminated"), r::toString);
      assertTrue(r.stdout().contains("1 previous message was successfully processed"), r::toString);
      List<String> alice = contents("alice");
      assertEquals(1, alice.size(), r::toString);
      assertTrue(alice.get(0).contains("\r\nSubject: one\r\n"), alice.get(0));
      assertEquals(List.of(), allMaildirFiles().stream().filter(f -> !f.startsWith("alice/new/")).toList());
      assertNoCommittedMessage(r);
    }

    @Test
    void bsmtpUnterminatedDataOnly() throws Exception {
      String batch = "HELO batch.example\r\nMAIL FROM:<me@test.example>\r\nRCPT TO:<alice@test.example>\r\n"
          + "DATA\r\nSubject: cut\r\n\r\n" + bigBody() + "no final dot\r\n";
      Result r = runUnterminated(batch, "-bS", LocalSmtpTest.this::spilledContent);
      assertEquals(2, r.exit(), r::toString);
      assertTrue(r.stdout().contains("not terminated"), r::toString);
      assertTrue(r.stderr().contains("not terminated"), r::toString);
      assertEquals(List.of(), allMaildirFiles(), r::toString);
      assertNoCommittedMessage(r);
    }

    @Test
    void bsmtpUnterminatedDataWithoutFinalNewline() throws Exception {
      // The input ends in the middle of a content line: still no lone dot, still an error.
      String batch = "HELO batch.example\r\nMAIL FROM:<me@test.example>\r\nRCPT TO:<alice@test.example>\r\n"
          + "DATA\r\nSubject: cut\r\n\r\n" + bigBody() + "partial line";
      Result r = runUnterminated(batch, "-bS", LocalSmtpTest.this::spilledContent);
      assertEquals(2, r.exit(), r::toString);
      assertEquals(List.of(), allMaildirFiles(), r::toString);
      assertNoCommittedMessage(r);
    }

    @Test
    void bsmtpEndOfInputRightAfterTheFinalDotIsNoError() throws Exception {
      // No QUIT: the batch just ends after a complete message.
      String batch = "HELO batch.example\r\n" + message("me@test.example", "alice@test.example", "last", "x\r\n");
      Result r = runUnterminated(batch, "-bS", () -> server.mailbox("alice").size() == 1);
      assertEquals(0, r.exit(), r::toString);
      assertEquals("", r.stdout(), r::toString);
      assertEquals(1, server.mailbox("alice").size(), r::toString);
    }

    @Test
    void bsmtpIgnoresQueryCommands() throws Exception {
      String batch = "HELO batch.example\r\nVRFY alice\r\nEXPN postmaster\r\nHELP\r\nETRN test.example\r\n"
          + "MAIL FROM:<me@test.example>\r\nVRFY nobody\r\nRCPT TO:<alice@test.example>\r\nEXPN root\r\n"
          + "HELP DATA\r\nETRN #x\r\nDATA\r\nSubject: queries\r\n\r\nbody\r\n.\r\nQUIT\r\n";
      Result r = run(batch, "-bS");
      assertEquals(0, r.exit(), r::toString);
      assertEquals("", r.stdout(), r::toString);
      List<String> alice = contents("alice");
      assertEquals(1, alice.size(), r::toString);
      assertTrue(alice.get(0).endsWith("\r\nSubject: queries\r\n\r\nbody\r\n"), alice.get(0));
    }

    @Test
    void bsmtpHeloInTheMiddleResetsTheTransaction() throws Exception {
      // Without the reset, the second MAIL would be a nested MAIL (503).
      String batch = "HELO batch.example\r\nMAIL FROM:<first@test.example>\r\nRCPT TO:<bob@test.example>\r\n"
          + "EHLO again.example\r\n"
          + message("second@test.example", "alice@test.example", "after-helo", "body\r\n")
          + "QUIT\r\n";
      Result r = run(batch, "-bS");
      assertEquals(0, r.exit(), r::toString);
      assertEquals("", r.stdout(), r::toString);
      List<String> alice = contents("alice");
      assertEquals(1, alice.size(), r::toString);
      assertTrue(alice.get(0).startsWith("Return-Path: <second@test.example>\r\n"), alice.get(0));
      assertEquals(List.of(), server.mailbox("bob"), "the recipient given before HELO was dropped");
    }

    @Test
    void bsmtpHeloInTheMiddleDropsSenderAndRecipients() throws Exception {
      // HELO as RSET: DATA right after it has no transaction any more, which is an error.
      String batch = "HELO batch.example\r\nMAIL FROM:<first@test.example>\r\nRCPT TO:<alice@test.example>\r\n"
          + "HELO again.example\r\nDATA\r\nSubject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n";
      Result r = run(batch, "-bS");
      assertEquals(2, r.exit(), r::toString);
      assertTrue(r.stdout().contains("503"), r::toString);
      assertEquals(List.of(), allMaildirFiles(), r::toString);
    }
  }

  /**
   * The ordinary way: the whole input is a file, so the end of input comes at once, typically
   * before the session has processed the first command (as with {@code postern -bS < batch}):
   * what was read before the end must still be processed.
   */
  @Nested
  class StdinEndsImmediately extends Scenarios {
    @Override
    Result run(String input, String mode) throws Exception {
      return ChildPostern.run(server.root(), config, input, mode);
    }

    @Override
    Result runUnterminated(String input, String mode, Check inData) throws Exception {
      return run(input, mode);
    }
  }

  /**
   * The input is written to a pipe that stays open until the child ends by itself (QUIT, first
   * error) or, for an unterminated batch, until the child is visibly inside the DATA: the rest of
   * the semantics, independent of when the end of input is noticed.
   */
  @Nested
  class StdinHeldOpen extends Scenarios {
    @Override
    Result run(String input, String mode) throws Exception {
      try (ChildPostern child = ChildPostern.startFed(server.root(), config,
          input.getBytes(StandardCharsets.UTF_8), mode)) {
        if (!child.waitFor(60_000)) {
          child.closeStdin();
        }
        return child.result();
      }
    }

    @Override
    Result runUnterminated(String input, String mode, Check inData) throws Exception {
      try (ChildPostern child = ChildPostern.startFed(server.root(), config,
          input.getBytes(StandardCharsets.UTF_8), mode)) {
        // The event that ends the input: the child is inside the unterminated DATA (or gone).
        Await.holdsWithin(30_000, () -> inData.holds() || !child.process().isAlive());
        boolean reached = inData.holds();
        child.closeStdin();
        Result r = child.result();
        assertTrue(reached, () -> "the child never got into the unterminated DATA\n" + r);
        return r;
      }
    }
  }

  /** A condition on the files the child writes. */
  @FunctionalInterface
  interface Check {
    boolean holds() throws IOException;
  }

  // ---------------------------------------------------------------- configuration

  @Test
  void unknownOptionInConfigurationIsReported() throws Exception {
    List<String> lines = new ArrayList<>(Files.readAllLines(config, StandardCharsets.UTF_8));
    lines.add(2, "no_such_option_xyz: 42");
    Files.write(config, lines, StandardCharsets.UTF_8);
    for (String[] args : new String[][] {{}, {"-bs"}, {"-bS"}, {"-bV"}}) {
      Result r = ChildPostern.run(server.root(), config, "QUIT\r\n", args);
      String mode = args.length == 0 ? "(daemon)" : args[0];
      assertEquals(2, r.exit(), () -> mode + "\n" + r);
      assertTrue(r.stderr().contains("postern.yaml"), () -> mode + ": file name\n" + r);
      assertTrue(r.stderr().contains(":3:"), () -> mode + ": line 3\n" + r);
      assertTrue(r.stderr().contains("no_such_option_xyz"), () -> mode + ": option name\n" + r);
    }
    assertEquals(List.of(), allMaildirFiles());
  }

  @Test
  void validConfigurationChecks() throws Exception {
    // Control for the test above: the same file without the bad line is accepted.
    Result r = ChildPostern.run(server.root(), config, "", "-bV");
    assertEquals(0, r.exit(), r::toString);
    assertTrue(r.stdout().contains("OK"), r::toString);
  }

  // ---------------------------------------------------------------- helpers

  private static String message(String from, String to, String subject, String body) {
    return "MAIL FROM:<" + from + ">\r\nRCPT TO:<" + to + ">\r\nDATA\r\nSubject: " + subject + "\r\n\r\n"
        + body + ".\r\n";
  }

  /** Reply lines of a -bs run; every line must be a well-formed reply line ending in CRLF. */
  private static List<String> replyLines(Result r) {
    String out = r.stdout();
    assertTrue(out.endsWith("\r\n"), () -> "stdout ends with CRLF\n" + r);
    List<String> lines = List.of(out.substring(0, out.length() - 2).split("\r\n", -1));
    for (String l : lines) {
      if (!l.matches("[2-5]\\d\\d([ -].*)?")) {
        fail("malformed reply line \"" + l + "\"\n" + r);
      }
    }
    return lines;
  }

  /** The code of each complete reply (last line of a multi-line one). */
  private static List<Integer> replyCodes(List<String> lines) {
    List<Integer> codes = new ArrayList<>();
    for (String l : lines) {
      if (l.length() == 3 || l.charAt(3) == ' ') {
        codes.add(Integer.parseInt(l.substring(0, 3)));
      }
    }
    return codes;
  }

  private List<String> contents(String user) throws IOException {
    List<String> out = new ArrayList<>();
    for (Path p : server.mailbox(user)) {
      out.add(Files.readString(p, StandardCharsets.UTF_8));
    }
    return out;
  }

  private static String find(List<String> messages, String subject) {
    return messages.stream().filter(m -> m.contains("\r\nSubject: " + subject + "\r\n")).findFirst()
        .orElseThrow(() -> new AssertionError("no message with Subject: " + subject + " in " + messages));
  }

  /** More than the spool writer keeps in memory: the content is spilled to a -D file while it arrives. */
  private static String bigBody() {
    StringBuilder sb = new StringBuilder(400_000);
    for (int i = 0; sb.length() < 320 * 1024; i++) {
      sb.append("line ").append(i).append(" of a long message that never gets its final dot ...........\r\n");
    }
    return sb.toString();
  }

  /** True when the spool holds content of more than 256 KB without an envelope: a DATA in progress. */
  private boolean spilledContent() throws IOException {
    List<String> files = server.spoolFiles();
    for (String f : files) {
      if (f.endsWith("-D") && !files.contains(f.substring(0, f.length() - 2) + "-H")) {
        long size = Files.size(server.spoolInput().resolve(f));
        if (size >= 256 * 1024) {
          return true;
        }
      }
    }
    return false;
  }

  /** No envelope is left: nothing of an unterminated message was committed. */
  private void assertNoCommittedMessage(Result r) throws IOException {
    assertEquals(List.of(), server.spoolFiles().stream().filter(f -> f.endsWith("-H")).toList(), r::toString);
  }

  /** Every regular file under maildir/ (any user, new/cur/tmp), relative paths. */
  private List<String> allMaildirFiles() throws IOException {
    Path dir = server.root().resolve("maildir");
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      return walk.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString()).sorted().toList();
    }
  }
}
