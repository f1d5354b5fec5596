package org.postern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postern.testing.Await;
import org.postern.testing.MainLogFile;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient;
import org.postern.testing.SmtpTestClient.Reply;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * CHUNKING/BDAT (RFC 3030) over real sockets: what the client is told, what is stored (byte
 * exact, no dot processing), what is logged, and that the stream stays in step whatever the
 * verdict. The regression tests for Exim's BDAT bugs carry the bug's name.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BdatTest {
  private static final MainLogFile MAIN_LOG = MainLogFile.ofTestJvm();
  private static final String SENDER = "sender@example.org";

  @Test
  void ehloOffersChunkingAndAChunkedMessageIsStoredExactly() throws Exception {
    try (PosternTestServer server = PosternTestServer.create().start();
         SmtpTestClient c = SmtpTestClient.connect(server.port())) {
      assertEquals(220, c.reply().code());
      Reply ehlo = c.command("EHLO client.example");
      assertTrue(ehlo.lines().contains("CHUNKING"), ehlo.toString());
      transaction(c);
      String one = "Message-ID: <chunks@client.example>\r\nSubject: in three\r\n";
      String two = "\r\nline one\r\n";
      String three = "line two\r\n";
      Reply r = bdat(c, one, false);
      assertEquals("250 2.0.0 " + one.length() + " byte chunk received", r.toString());
      assertEquals(250, bdat(c, two, false).code());
      Reply end = bdat(c, three, true);
      assertEquals(250, end.code(), end.toString());
      assertTrue(end.text().contains("OK id="), end.toString());
      String id = end.text().replaceAll(".*id=", "").strip();
      String arrival = MAIN_LOG.await(5000, id + " <= " + SENDER, c.hostForLog());
      assertTrue(arrival.contains(" K S="), "Exim's K for a chunked arrival: " + arrival);
      assertTrue(arrival.endsWith(" id=chunks@client.example"), arrival);
      assertEquals(221, c.command("QUIT").code());
      assertEquals(one + two + three, storedBody(server));
    }
  }

  /**
   * CVE-2017-16944: Exim's BDAT reader still looked for CRLF.CRLF, so a dot line inside a chunk
   * ended the message early and left Exim in a state that looped. Dots and the DATA terminator
   * inside a chunk are content; the message ends with the octet count, never before.
   */
  @Test
  void cve_2017_16944_dotLinesAndCrlfDotCrlfInsideAChunkAreData() throws Exception {
    try (PosternTestServer server = PosternTestServer.create().start(); SmtpTestClient c = open(server)) {
      transaction(c);
      // A chunk that is just a dot, one that starts with a dot line, and the terminator mid-chunk.
      assertEquals(250, bdat(c, ".", false).code());
      assertEquals(250, bdat(c, "\r\n.\r\n..\r\n", false).code());
      Reply end = bdat(c, "\r\n.\r\nQUIT\r\n", true);
      assertEquals(250, end.code(), end.toString());
      assertEquals(250, c.command("NOOP").code(), "the session goes on: QUIT inside the chunk was data");
      assertEquals(221, c.command("QUIT").code());
      assertEquals(".\r\n.\r\n..\r\n\r\n.\r\nQUIT\r\n", storedBody(server));
    }
  }

  /**
   * CVE-2017-16943: a use-after-free in Exim when the DATA reader's end-of-message handling ran on
   * a BDAT chunk holding dots. Here: dots, a smuggled transaction and the terminator in one chunk,
   * sent one byte per segment: one message, holding every byte, and no command inside it ran.
   */
  @Test
  void cve_2017_16943_bdatWithDotsDoesNotEndTheMessageOrRunItsContent() throws Exception {
    try (PosternTestServer server = PosternTestServer.create().start(); SmtpTestClient c = open(server)) {
      transaction(c);
      String content = "Subject: x\r\n\r\n.\r\nMAIL FROM:<evil@x.example>\r\nRCPT TO:<bob@test.example>\r\nDATA\r\n"
          + "smuggled\r\n.\r\n";
      byte[] wire = ("BDAT " + content.length() + " LAST\r\n" + content).getBytes(ISO_8859_1);
      for (byte b : wire) {
        c.sendRaw(new byte[] {b});
      }
      Reply end = c.reply();
      assertEquals(250, end.code(), end.toString());
      assertTrue(end.text().contains("id="), end.toString());
      assertEquals(221, c.command("QUIT").code());
      assertEquals(content, storedBody(server));
      assertTrue(server.mailbox("bob").isEmpty(), "the smuggled transaction never ran");
    }
  }

  /** The 2020 BDAT issues: a chunk that ends in the middle of a line, the message's last one too. */
  @Test
  void bdat2020_aChunkThatEndsMidLineJoinsTheNextAndTheLastLineIsEnded() throws Exception {
    try (PosternTestServer server = PosternTestServer.create().start(); SmtpTestClient c = open(server)) {
      transaction(c);
      assertEquals(250, bdat(c, "Subject: spl", false).code());
      assertEquals(250, bdat(c, "it\r\n\r\nbody with no line end", false).code());
      assertEquals(250, bdat(c, " yet", true).code());
      assertEquals(221, c.command("QUIT").code());
      assertEquals("Subject: split\r\n\r\nbody with no line end yet\r\n", storedBody(server));
    }
  }

  /**
   * The 2020 BDAT issues: sizes Exim read with {@code sscanf("%u")} wrapped or went negative.
   * Anything but 1 to 18 digits is a syntax error (501 5.5.4), nothing is read as a chunk and
   * nothing is stored; the bytes after it are commands.
   */
  @Test
  void bdat2020_sizesThatOverflowAreNegativeOrNotNumbersAreSyntaxErrors() throws Exception {
    try (PosternTestServer server = PosternTestServer.create().option("smtp_max_synprot_errors", "100").start();
         SmtpTestClient c = open(server)) {
      transaction(c);
      for (String bad : List.of("BDAT 9223372036854775808 LAST", "BDAT 18446744073709551617",
          "BDAT 99999999999999999999999999", "BDAT -1 LAST", "BDAT -5", "BDAT +5", "BDAT five", "BDAT 0x10",
          "BDAT", "BDAT 5 LAST LAST", "BDAT 5 FIRST", "BDAT 5LAST", "BDAT 1.5")) {
        Reply r = c.command(bad);
        assertEquals(501, r.code(), bad + ": " + r);
        assertEquals("5.5.4", r.enhanced(), bad + ": " + r);
      }
      // 2^64 + 6 wraps to 6 in 64 bits: the six octets after it must be a command, not a chunk.
      c.send("BDAT 18446744073709551622 LAST\r\nNOOP\r\n");
      assertEquals(501, c.reply().code());
      assertEquals(250, c.reply().code(), "NOOP after the refused size is a command");
      assertTrue(server.spoolFiles().isEmpty(), "nothing spooled: " + server.spoolFiles());
      assertEquals(250, bdat(c, "Subject: fine\r\n", true).code(), "the transaction is still usable");
      assertEquals(221, c.command("QUIT").code());
      assertEquals("Subject: fine\r\n", storedBody(server));
    }
  }

  /** The 2020 BDAT issues: a chunk size larger than what follows, and the client goes away: nothing stays. */
  @Test
  void bdat2020_aChunkLargerThanWhatFollowsThenTheConnectionClosesLeavesNothing() throws Exception {
    try (PosternTestServer server = PosternTestServer.create().start()) {
      MainLogFile log = MAIN_LOG.fromNow();
      SmtpTestClient c = open(server);
      transaction(c);
      // More than the spool writer keeps in memory, so a data file exists while the chunk arrives.
      String big = "X".repeat(76) + "\r\n";
      c.send("BDAT 10000000 LAST\r\n" + big.repeat(400_000 / big.length()));
      Await.until("the partial message reached the spool", 10_000, () -> !server.spoolFiles().isEmpty());
      String host = c.hostForLog();
      c.close();
      log.await(5000, "unexpected disconnection while reading SMTP data from " + host);
      server.awaitSpoolEmpty(5000);
      assertTrue(server.mailbox("alice").isEmpty());
    }
  }

  @Test
  void bdatZeroLastIsAnEmptyMessage() throws Exception {
    try (PosternTestServer server = PosternTestServer.create().start(); SmtpTestClient c = open(server)) {
      transaction(c);
      Reply end = c.command("BDAT 0 LAST");
      assertEquals(250, end.code(), end.toString());
      assertTrue(end.text().contains("id="), end.toString());
      assertEquals(221, c.command("QUIT").code());
      assertEquals("", storedBody(server));
    }
  }

  /** Several transactions, chunks and commands in one TCP segment: the replies come in order. */
  @Test
  void pipelinedChunksAndCommandsInOneSegment() throws Exception {
    try (PosternTestServer server = PosternTestServer.create().start(); SmtpTestClient c = open(server)) {
      String rcpt = "MAIL FROM:<" + SENDER + ">\r\nRCPT TO:<alice@test.example>\r\n";
      c.send(rcpt + chunk("Subject: one\r\n", false) + chunk("\r\nA\r\n", true)
          + rcpt + chunk("Subject: two\r\n\r\nB\r\n", true) + "NOOP\r\nQUIT\r\n");
      StringBuilder codes = new StringBuilder();
      for (int i = 0; i < 9; i++) {
        codes.append(c.reply().code()).append(' ');
      }
      assertEquals("250 250 250 250 250 250 250 250 221 ", codes.toString());
      List<Path> files = server.awaitMailbox("alice", 2, 5000);
      List<String> bodies = files.stream().map(BdatTest::body).sorted().toList();
      assertEquals(List.of("Subject: one\r\n\r\nA\r\n", "Subject: two\r\n\r\nB\r\n"), bodies);
    }
  }

  /** RFC 3030 4.2: the size limit holds on the running total; the refused chunk's rest is read and dropped. */
  @Test
  void messageSizeLimitOnTheRunningTotalRefusesAtOnceAndTheSessionGoesOn() throws Exception {
    try (PosternTestServer server = PosternTestServer.create().option("message_size_limit", "1000").start();
         SmtpTestClient c = open(server)) {
      transaction(c);
      String line = "Y".repeat(98) + "\r\n";
      assertEquals(250, bdat(c, line.repeat(6), false).code());
      // The second chunk takes the total past the limit; a pipelined third one follows it at once.
      String second = line.repeat(6);
      c.send("BDAT " + second.length() + "\r\n" + second + "BDAT 6 LAST\r\nQUIT\r\n");
      Reply tooBig = c.reply();
      assertEquals(552, tooBig.code(), tooBig.toString());
      assertEquals("5.3.4", tooBig.enhanced());
      Reply after = c.reply();
      assertEquals(503, after.code(), "the pipelined chunk after a refused one is refused and read: " + after);
      assertEquals("5.5.1", after.enhanced());
      assertEquals(250, c.command("NOOP").code(), "QUIT in the dropped chunk was not a command");
      server.awaitSpoolEmpty(5000);
      transaction(c);
      assertEquals(250, bdat(c, "Subject: small\r\n", true).code(), "the session is usable");
      assertEquals(221, c.command("QUIT").code());
      assertEquals("Subject: small\r\n", storedBody(server));
    }
  }

  /** BDAT before MAIL or RCPT: 503 5.5.1, and its chunk is still consumed (a QUIT inside it proves it). */
  @Test
  void bdatWithoutMailOrRecipientsIsRefusedAndItsChunkConsumed() throws Exception {
    try (PosternTestServer server = PosternTestServer.create().start(); SmtpTestClient c = open(server)) {
      Reply noMail = c.command("BDAT 6 LAST\r\nQUIT");
      assertEquals(503, noMail.code(), noMail.toString());
      assertEquals("5.5.1", noMail.enhanced());
      assertEquals(250, c.command("NOOP").code());
      assertEquals(250, c.command("MAIL FROM:<" + SENDER + ">").code());
      assertEquals(550, c.command("RCPT TO:<nobody@test.example>").code());
      Reply noRcpt = c.command("BDAT 6\r\nQUIT");
      assertEquals(503, noRcpt.code(), noRcpt.toString());
      assertEquals("5.5.1", noRcpt.enhanced());
      assertEquals(250, c.command("NOOP").code());
      assertTrue(server.spoolFiles().isEmpty(), server.spoolFiles().toString());
    }
  }

  /** RFC 3030 4.2: DATA, RCPT (and any command but BDAT, RSET, NOOP, QUIT) cannot follow a chunk. */
  @Test
  void dataAndBdatAreNeverMixedInOneTransaction() throws Exception {
    try (PosternTestServer server = PosternTestServer.create().option("smtp_max_synprot_errors", "10").start();
         SmtpTestClient c = open(server)) {
      transaction(c);
      assertEquals(250, bdat(c, "Subject: mixed\r\n", false).code());
      for (String other : List.of("DATA", "RCPT TO:<bob@test.example>", "MAIL FROM:<x@example.org>", "EHLO again")) {
        Reply r = c.command(other);
        assertEquals(503, r.code(), other + ": " + r);
        assertEquals("5.5.1", r.enhanced(), other);
      }
      assertEquals(250, c.command("NOOP").code());
      assertEquals(250, bdat(c, "\r\nbody\r\n", true).code());
      assertEquals(221, c.command("QUIT").code());
      assertEquals("Subject: mixed\r\n\r\nbody\r\n", storedBody(server));
      assertTrue(server.mailbox("bob").isEmpty());
    }
  }

  /** RSET between chunks: the partial message (already a spool file) is gone, and the session goes on. */
  @Test
  void rsetBetweenChunksDiscardsThePartialMessage() throws Exception {
    try (PosternTestServer server = PosternTestServer.create().start(); SmtpTestClient c = open(server)) {
      transaction(c);
      String line = "Z".repeat(78) + "\r\n";
      assertEquals(250, bdat(c, line.repeat(4000), false).code());
      Await.until("the partial message reached the spool", 10_000, () -> !server.spoolFiles().isEmpty());
      assertEquals(250, c.command("RSET").code());
      server.awaitSpoolEmpty(5000);
      Reply after = c.command("BDAT 6 LAST\r\nQUIT");
      assertEquals(503, after.code(), "no transaction after RSET: " + after);
      transaction(c);
      assertEquals(250, bdat(c, "Subject: after reset\r\n", true).code());
      assertEquals(221, c.command("QUIT").code());
      assertEquals("Subject: after reset\r\n", storedBody(server));
    }
  }

  /**
   * {@code chunking_advertise_hosts}: no CHUNKING, and BDAT is refused as Exim refuses it (503
   * "BDAT command used when CHUNKING not advertised"); what follows is read as commands, as by a
   * server that knows no BDAT. So is BDAT after HELO.
   */
  @Test
  void bdatFromAHostNotOfferedChunkingIsRefusedAndNotReadAsAChunk() throws Exception {
    try (PosternTestServer server = PosternTestServer.create().option("chunking_advertise_hosts", "192.0.2.1").start();
         SmtpTestClient c = open(server)) {
      Reply ehlo = c.command("EHLO client.example");
      assertFalse(ehlo.lines().contains("CHUNKING"), ehlo.toString());
      transaction(c);
      c.send("BDAT 6 LAST\r\nNOOP\r\n");
      Reply refused = c.reply();
      assertEquals(503, refused.code(), refused.toString());
      assertEquals("5.5.1", refused.enhanced());
      assertTrue(refused.text().contains("CHUNKING not advertised"), refused.toString());
      assertEquals(250, c.reply().code(), "the bytes after it are a command");
      assertTrue(server.spoolFiles().isEmpty());
    }
    try (PosternTestServer server = PosternTestServer.create().start();
         SmtpTestClient c = SmtpTestClient.connect(server.port())) {
      assertEquals(220, c.reply().code());
      assertEquals(250, c.command("HELO client.example").code());
      transaction(c);
      Reply refused = c.command("BDAT 0 LAST");
      assertEquals(503, refused.code(), "no EHLO, no CHUNKING: " + refused);
    }
  }

  /** The predata ACL runs at the first chunk; its refusal comes after the chunk, which is read. */
  @Test
  void predataAclRefusesTheFirstChunkAndTheChunkIsConsumed() throws Exception {
    String acl = Files.readString(Path.of("conf", "acl.yaml")) + "acl_check_predata:\n  - deny: { message: not today }\n";
    try (PosternTestServer server = PosternTestServer.create().acl(acl).option("acl_smtp_predata", "acl_check_predata")
        .start(); SmtpTestClient c = open(server)) {
      transaction(c);
      Reply refused = c.command("BDAT 6\r\nQUIT");
      assertEquals("554 5.7.1 not today", refused.toString(), "Exim's code for a predata refusal");
      assertEquals(554, c.command("BDAT 6 LAST\r\nQUIT").code(), "the message never started: asked again");
      assertEquals(250, c.command("NOOP").code());
      assertTrue(server.spoolFiles().isEmpty());
    }
  }

  /** The data ACL (and everything else at the end of DATA) decides at BDAT LAST; a refusal keeps nothing. */
  @Test
  void dataAclDecidesAtTheLastChunk() throws Exception {
    String acl = Files.readString(Path.of("conf", "acl.yaml"))
        + "acl_check_data:\n  - deny: { condition: \"${if match{$message_headers}{spam}}\", message: no spam }\n"
        + "  - accept:\n";
    try (PosternTestServer server = PosternTestServer.create().acl(acl).option("acl_smtp_data", "acl_check_data")
        .start(); SmtpTestClient c = open(server)) {
      transaction(c);
      assertEquals(250, bdat(c, "Subject: sp", false).code());
      Reply refused = bdat(c, "am\r\n\r\nbuy\r\n", true);
      assertEquals(550, refused.code(), refused.toString());
      assertTrue(refused.text().endsWith("no spam"), refused.toString());
      MAIN_LOG.await(5000, "rejected after DATA: ", c.hostForLog(), "no spam");
      server.awaitSpoolEmpty(5000);
      transaction(c);
      assertEquals(250, bdat(c, "Subject: ham\r\n", true).code());
      assertEquals(221, c.command("QUIT").code());
      assertEquals("Subject: ham\r\n", storedBody(server));
    }
  }

  /** A chunk is content: {@code smtp_data_timeout} bounds it, as it bounds DATA, and nothing is kept. */
  @Test
  void aChunkTrickledInCompleteLinesIsCutOffAtTheDataDeadline() throws Exception {
    try (PosternTestServer server = PosternTestServer.create().option("smtp_receive_timeout", "1s")
        .option("smtp_data_timeout", "2s").start(); SmtpTestClient c = open(server)) {
      MainLogFile log = MAIN_LOG.fromNow();
      transaction(c);
      c.send("BDAT 1000000 LAST\r\nSubject: endless\r\n\r\n");
      long ms = DataPhaseTest.trickleUntilCutOff(c, "x\r\n");
      assertTrue(ms >= 1500 && ms < 6000, "cut off after " + ms + " ms");
      log.await(5000, "SMTP data timeout on connection from " + c.hostForLog());
      server.awaitSpoolEmpty(5000);
      assertTrue(server.mailbox("alice").isEmpty());
    }
  }

  /** {@code bare_lf: reject} holds for chunks too: a bare LF relayed on with DATA could forge a line. */
  @Test
  void bareLineEndsInChunksAreRefusedAsInData() throws Exception {
    try (PosternTestServer server = PosternTestServer.create().start(); SmtpTestClient c = open(server)) {
      transaction(c);
      assertEquals(250, bdat(c, "Subject: lf\r\n\r\nbare\n.\n", false).code());
      Reply refused = bdat(c, "end\r\n", true);
      assertEquals(550, refused.code(), refused.toString());
      assertEquals("5.6.0", refused.enhanced());
      // A CR at the end of one chunk and the LF at the start of the next are one CRLF.
      transaction(c);
      assertEquals(250, bdat(c, "Subject: split crlf\r", false).code());
      assertEquals(250, bdat(c, "\n\r\nok\r\n", true).code());
      assertEquals(221, c.command("QUIT").code());
      assertEquals("Subject: split crlf\r\n\r\nok\r\n", storedBody(server));
    }
  }

  // -----------------------------------------------------------------------------------------------

  private static SmtpTestClient open(PosternTestServer server) throws IOException {
    SmtpTestClient c = SmtpTestClient.connect(server.port());
    assertEquals(220, c.reply().code());
    assertEquals(250, c.command("EHLO client.example").code());
    return c;
  }

  private static void transaction(SmtpTestClient c) throws IOException {
    assertEquals(250, c.command("MAIL FROM:<" + SENDER + ">").code());
    assertEquals(250, c.command("RCPT TO:<alice@test.example>").code());
  }

  /** Sends {@code BDAT <size> [LAST]} and the chunk in one write; returns the reply. */
  private static Reply bdat(SmtpTestClient c, String chunk, boolean last) throws IOException {
    c.sendRaw(chunk(chunk, last).getBytes(ISO_8859_1));
    return c.reply();
  }

  /** The BDAT command for {@code content}, and the content. */
  private static String chunk(String content, boolean last) {
    return "BDAT " + content.getBytes(ISO_8859_1).length + (last ? " LAST" : "") + "\r\n" + content;
  }

  /** The one message in alice's mailbox, without Postern's trace headers. */
  private static String storedBody(PosternTestServer server) throws Exception {
    List<Path> files = server.awaitMailbox("alice", 1, 5000);
    assertEquals(1, files.size(), files.toString());
    return body(files.get(0));
  }

  private static String body(Path file) {
    try {
      return new String(DataPhaseTest.afterTrace(Files.readAllBytes(file), SENDER), ISO_8859_1);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
