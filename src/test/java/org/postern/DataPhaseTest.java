package org.postern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.postern.testing.Await;
import org.postern.testing.MainLogFile;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient;
import org.postern.testing.SmtpTestClient.Reply;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The DATA phase over real sockets against a real server: every test checks both what the client
 * was told and what ended up on disk (maildirs and spool), so a right code with a wrong outcome
 * (or the reverse) fails.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DataPhaseTest {
  private static final MainLogFile MAIN_LOG = MainLogFile.ofTestJvm();
  private static final String SENDER = "sender@example.org";

  // -----------------------------------------------------------------------------------------------
  // Dot-stuffing and byte exactness

  @Test
  void dotStuffedLinesAreUnstuffedAndEverythingElseIsStoredExactly() throws Exception {
    // Wire form, as a conforming client stuffs it, plus one unstuffed ". x" line: RFC 5321 4.5.2
    // says the receiver deletes a leading dot whenever other characters follow it.
    String wire = "Subject: dots\r\n"
        + "\r\n"
        + "..x\r\n"
        + "..\r\n"
        + "...\r\n"
        + ". space\r\n"
        + "mid.dle .\r\n"
        + "..\r\n"
        + "last line.\r\n"
        + ".\r\n";
    String expected = "Subject: dots\r\n"
        + "\r\n"
        + ".x\r\n"
        + ".\r\n"
        + "..\r\n"
        + " space\r\n"
        + "mid.dle .\r\n"
        + ".\r\n"
        + "last line.\r\n";
    try (PosternTestServer server = PosternTestServer.create().start();
         SmtpTestClient c = open(server)) {
      startData(c, SENDER, "alice@test.example");
      c.send(wire);
      Reply r = c.reply();
      assertEquals(250, r.code(), r.toString());
      assertNoFurtherReply(c);

      // The same bytes again, one byte per write: framing must not depend on segmentation.
      startData(c, SENDER, "alice@test.example");
      byte[] bytes = wire.replace("Subject: dots", "Subject: dots2").getBytes(ISO_8859_1);
      for (byte b : bytes) {
        c.sendRaw(new byte[] {b});
      }
      r = c.reply();
      assertEquals(250, r.code(), r.toString());
      assertEquals(221, c.command("QUIT").code());

      List<Path> files = server.awaitMailbox("alice", 2, 5000);
      assertEquals(2, files.size(), "two messages in alice's mailbox: " + files);
      List<String> bodies = new ArrayList<>();
      for (Path f : files) {
        bodies.add(new String(afterTrace(Files.readAllBytes(f), SENDER), ISO_8859_1));
      }
      assertTrue(bodies.contains(expected), "stored " + bodies);
      assertTrue(bodies.contains(expected.replace("Subject: dots", "Subject: dots2")), "stored " + bodies);
      awaitSpoolEmpty(server);
    }
  }

  @Test
  void eightBitAndNulBytesAreStoredByteExact() throws Exception {
    ByteArrayOutputStream msg = new ByteArrayOutputStream();
    msg.writeBytes(("Subject: binary-ish\r\nContent-Type: application/octet-stream\r\n"
        + "Content-Transfer-Encoding: 8bit\r\n\r\n").getBytes(ISO_8859_1));
    // Every byte value but CR and LF, 32 per line.
    int n = 0;
    for (int b = 0; b < 256; b++) {
      if (b == '\r' || b == '\n') {
        continue;
      }
      msg.write(b);
      if (++n % 32 == 0) {
        msg.writeBytes(crlf());
      }
    }
    msg.writeBytes(crlf());
    msg.writeBytes(new byte[] {0, 0, 0, '\r', '\n'});
    msg.writeBytes(new byte[] {(byte) 0xC3, (byte) 0xA9, (byte) 0xFF, (byte) 0x80, '\r', '\n'});
    msg.writeBytes(new byte[] {'.', 0, (byte) 0xE9, '\r', '\n'});   // needs stuffing
    msg.writeBytes(new byte[] {0, '.', '\r', '\n'});
    byte[] message = msg.toByteArray();

    try (PosternTestServer server = PosternTestServer.create().start();
         SmtpTestClient c = open(server)) {
      assertEquals(250, c.command("MAIL FROM:<" + SENDER + "> BODY=8BITMIME").code());
      assertEquals(250, c.command("RCPT TO:<alice@test.example>").code());
      assertEquals(354, c.command("DATA").code());
      c.sendRaw(concat(stuff(message), ".\r\n".getBytes(ISO_8859_1)));
      Reply r = c.reply();
      assertEquals(250, r.code(), r.toString());
      List<Path> files = server.awaitMailbox("alice", 1, 5000);
      assertEquals(1, files.size());
      assertArrayEquals(message, afterTrace(Files.readAllBytes(files.get(0)), SENDER));
      awaitSpoolEmpty(server);
    }
  }

  @Test
  void largeMessageSpilledToTheSpoolIsStoredByteExact() throws Exception {
    // Several MB: goes through the spool's spill-to-disk path and read back-pressure.
    java.util.Random random = new java.util.Random(42);
    ByteArrayOutputStream msg = new ByteArrayOutputStream();
    msg.writeBytes("Subject: large\r\n\r\n".getBytes(ISO_8859_1));
    int line = 0;
    while (msg.size() < 4 * 1024 * 1024) {
      int len = random.nextInt(200);
      if (line++ % 7 == 0) {
        msg.write('.');
      }
      for (int i = 0; i < len; i++) {
        msg.write(0x20 + random.nextInt(0x5f));
      }
      msg.writeBytes(crlf());
    }
    byte[] message = msg.toByteArray();
    try (PosternTestServer server = PosternTestServer.create().start();
         SmtpTestClient c = open(server)) {
      startData(c, SENDER, "alice@test.example");
      c.sendRaw(concat(stuff(message), ".\r\n".getBytes(ISO_8859_1)));
      Reply r = c.reply();
      assertEquals(250, r.code(), r.toString());
      assertEquals(221, c.command("QUIT").code());
      List<Path> files = server.awaitMailbox("alice", 1, 10_000);
      assertEquals(1, files.size());
      byte[] stored = afterTrace(Files.readAllBytes(files.get(0)), SENDER);
      assertEquals(message.length, stored.length, "stored length");
      assertTrue(Arrays.equals(message, stored), "stored content differs from what was sent");
      awaitSpoolEmpty(server);
    }
  }

  /**
   * RFC 2920 2.1 (and its predecessors): "The actual transfer of message content is explicitly
   * allowed to be the first command in a group", so the next MAIL/RCPT/DATA may share a packet with
   * the final dot once PIPELINING was advertised; RFC 2920's own example pipelines "." and QUIT.
   */
  @Test
  void commandsPipelinedAfterTheFinalDotAreAcceptedWithPipelining() throws Exception {
    try (PosternTestServer server = PosternTestServer.create().start();
         SmtpTestClient c = open(server)) {
      assertTrue(c.command("EHLO client.example").text().contains("PIPELINING"));
      startData(c, SENDER, "alice@test.example");
      c.send("Subject: first\r\n\r\none\r\n.\r\n"
          + "MAIL FROM:<" + SENDER + ">\r\nRCPT TO:<bob@test.example>\r\nDATA\r\n");
      List<String> replies = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        try {
          Reply r = c.reply();
          replies.add(r.code() + " " + r.enhanced());
        } catch (IOException e) {
          replies.add(e.getMessage());
          break;
        }
      }
      assertEquals(List.of("250 2.0.0", "250 2.1.0", "250 2.1.5", "354 "), replies,
          "replies to \".\" + MAIL + RCPT + DATA in one group");
      c.send("Subject: second\r\n\r\ntwo\r\n.\r\nQUIT\r\n");
      Reply second = c.reply();
      assertEquals(250, second.code(), second.toString());
      assertEquals(221, c.reply().code());
      assertEquals(1, server.awaitMailbox("alice", 1, 5000).size());
      assertEquals(1, server.awaitMailbox("bob", 1, 5000).size());
      awaitSpoolEmpty(server);
      assertEquals("Subject: first\r\n\r\none\r\n",
          new String(afterTrace(Files.readAllBytes(server.mailbox("alice").get(0)), SENDER), ISO_8859_1));
      assertEquals("Subject: second\r\n\r\ntwo\r\n",
          new String(afterTrace(Files.readAllBytes(server.mailbox("bob").get(0)), SENDER), ISO_8859_1));
    }
  }

  // -----------------------------------------------------------------------------------------------
  // SMTP smuggling (CVE-2023-51766 and relatives)

  static Stream<Arguments> smugglingVariants() {
    return Stream.of(
        Arguments.of("LF.LF", "\n.\n"),
        Arguments.of("CRLF.LF", "\r\n.\n"),
        Arguments.of("LF.CRLF", "\n.\r\n"),
        Arguments.of("CR.CR", "\r.\r"),
        Arguments.of("CR.CRLF", "\r.\r\n"));
  }

  private static final String SMUGGLED = "MAIL FROM:<evil@x.example>\r\nRCPT TO:<bob@test.example>\r\nDATA\r\n"
      + "Subject: smuggled\r\n\r\nevil\r\n";

  private static String smugglingContent(String variant) {
    return "Subject: a\r\n\r\nfirst" + variant + SMUGGLED;
  }

  @ParameterizedTest(name = "{0} is content, rejected as bare line end")
  @MethodSource("smugglingVariants")
  void smugglingAttemptIsOneMessageRejectedByDefault(String name, String variant) throws Exception {
    try (PosternTestServer server = PosternTestServer.create().start();
         SmtpTestClient c = open(server)) {
      startData(c, SENDER, "alice@test.example");
      c.send(smugglingContent(variant) + ".\r\n");
      Reply r = c.reply();
      assertEquals(550, r.code(), r.toString());
      assertEquals("5.6.0", r.enhanced(), r.toString());
      assertNoFurtherReply(c);
      Reply noop = c.command("NOOP");
      assertEquals(250, noop.code(), noop.toString());
      assertEquals("2.0.0", noop.enhanced(), "NOOP's own reply, not a smuggled command's: " + noop);
      // The transaction was reset: a new MAIL is not "sender already given".
      assertEquals(250, c.command("MAIL FROM:<" + SENDER + ">").code());
      assertEquals(250, c.command("RSET").code());
      assertEquals(221, c.command("QUIT").code());

      // After the session's last reply, an empty spool means every delivery it started is over.
      awaitSpoolEmpty(server);
      assertEquals(List.of(), server.mailbox("alice"));
      assertEquals(List.of(), server.mailbox("bob"));
      assertEquals(List.of(), allMaildirFiles(server));
    }
  }

  @ParameterizedTest(name = "{0} is normalised content of one message")
  @MethodSource("smugglingVariants")
  void smugglingAttemptIsOneMessageWhenNormalizing(String name, String variant) throws Exception {
    try (PosternTestServer server = PosternTestServer.create().option("bare_lf", "normalize").start();
         SmtpTestClient c = open(server)) {
      startData(c, SENDER, "alice@test.example");
      c.send(smugglingContent(variant) + ".\r\n");
      Reply r = c.reply();
      assertEquals(250, r.code(), r.toString());
      assertNoFurtherReply(c);
      Reply noop = c.command("NOOP");
      assertEquals(250, noop.code(), noop.toString());
      assertEquals("2.0.0", noop.enhanced(), noop.toString());
      assertEquals(221, c.command("QUIT").code());

      List<Path> files = server.awaitMailbox("alice", 1, 5000);
      assertEquals(1, files.size(), "exactly one message for alice");
      // The one message's story ends with Completed (after its mailbox write): nothing more comes.
      MAIN_LOG.awaitCompleted(idOf(r), 5000);
      awaitSpoolEmpty(server);
      assertEquals(1, server.mailbox("alice").size(), "still exactly one message for alice");
      assertEquals(List.of(), server.mailbox("bob"), "the smuggled RCPT must not deliver");

      String stored = new String(afterTrace(Files.readAllBytes(files.get(0)), SENDER), ISO_8859_1);
      assertTrue(stored.contains(SMUGGLED), "smuggled text stored as content: " + stored);
      assertTrue(stored.startsWith("Subject: a\r\n\r\nfirst\r\n"), stored);
      // RFC 5321 unstuffing per CRLF line, then each bare CR / LF becomes CRLF.
      assertEquals(normalize(unstuff(smugglingContent(variant))), stored);
      assertFalse(stored.matches("(?s).*(\r(?!\n)|(?<!\r)\n).*"), "bare CR/LF left in stored message: " + stored);
    }
  }

  // -----------------------------------------------------------------------------------------------
  // Size limit

  @Test
  void oversizedMessageWithoutSizeParameterIsRejectedAfterTheDotAndSessionStaysUsable() throws Exception {
    try (PosternTestServer server = PosternTestServer.create().option("message_size_limit", "10K").start();
         SmtpTestClient c = open(server)) {
      StringBuilder big = new StringBuilder("Subject: big\r\n\r\n");
      while (big.length() < 20 * 1024) {
        big.append("0123456789".repeat(7)).append("\r\n");
      }
      startData(c, SENDER, "alice@test.example");
      c.send(big + ".\r\n");
      Reply r = c.reply();
      assertEquals(552, r.code(), r.toString());
      assertEquals("5.3.4", r.enhanced(), r.toString());
      assertNoFurtherReply(c);
      MAIN_LOG.await(5000, "rejected after DATA: ", c.hostForLog(), "message too big");
      awaitSpoolEmpty(server);
      assertEquals(List.of(), server.mailbox("alice"));

      // Same session: a small message goes through and is the only one delivered.
      startData(c, SENDER, "alice@test.example");
      c.send("Subject: small\r\n\r\nsmall body\r\n.\r\n");
      Reply ok = c.reply();
      assertEquals(250, ok.code(), ok.toString());
      assertEquals(221, c.command("QUIT").code());
      List<Path> files = server.awaitMailbox("alice", 1, 5000);
      assertEquals(1, files.size());
      assertEquals("Subject: small\r\n\r\nsmall body\r\n",
          new String(afterTrace(Files.readAllBytes(files.get(0)), SENDER), ISO_8859_1));
      awaitSpoolEmpty(server);
      assertEquals(1, server.mailbox("alice").size());
    }
  }

  @Test
  void oversizedMessageAlreadySpilledToTheSpoolIsRejectedAndRemoved() throws Exception {
    try (PosternTestServer server = PosternTestServer.create().option("message_size_limit", "300K").start();
         SmtpTestClient c = open(server)) {
      StringBuilder big = new StringBuilder("Subject: big\r\n\r\n");
      while (big.length() < 1024 * 1024) {
        big.append("y".repeat(98)).append("\r\n");
      }
      startData(c, SENDER, "alice@test.example");
      c.send(big + ".\r\n");
      Reply r = c.reply();
      assertEquals(552, r.code(), r.toString());
      assertEquals("5.3.4", r.enhanced(), r.toString());
      MAIN_LOG.await(5000, "rejected after DATA: ", c.hostForLog(), "message too big");
      awaitSpoolEmpty(server);
      assertEquals(250, c.command("NOOP").code());
      assertEquals(List.of(), allMaildirFiles(server));
    }
  }

  // -----------------------------------------------------------------------------------------------
  // Aborted transfers

  @Test
  void abruptDisconnectMidDataDeliversNothingAndLeavesNoSpoolFiles() throws Exception {
    try (PosternTestServer server = PosternTestServer.create().start()) {
      List<String> clients = new ArrayList<>();
      try (SmtpTestClient c = open(server)) {
        clients.add(c.hostForLog());
        startData(c, SENDER, "alice@test.example");
        c.send("Subject: half\r\n\r\nhalf a mess");
      }
      // Large enough to be spilled into the spool's -D file before the client goes away.
      try (SmtpTestClient c = open(server)) {
        startData(c, SENDER, "bob@test.example");
        StringBuilder sb = new StringBuilder("Subject: half big\r\n\r\n");
        String line = "x".repeat(98) + "\r\n";
        while (sb.length() < 800 * 1024) {
          sb.append(line);
        }
        clients.add(c.hostForLog());
        c.send(sb.toString());
        assertTrue(Await.holdsWithin(5000, () -> server.spoolFiles().stream().anyMatch(f -> f.endsWith("-D"))),
            "precondition: large content spilled to the spool, got " + server.spoolFiles());
      }
      // Each connection's story ends with its disconnection line: from then on nothing is accepted.
      for (String client : clients) {
        MAIN_LOG.await(5000, "unexpected disconnection while reading SMTP data from " + client, "message not accepted");
      }
      awaitSpoolEmpty(server);
      assertEquals(List.of(), allMaildirFiles(server));
      // The server is still fine.
      try (SmtpTestClient c = open(server)) {
        assertEquals(250, c.command("NOOP").code());
      }
    }
  }

  @Test
  void idleClientTimesOutWith421AndIsDisconnected() throws Exception {
    try (PosternTestServer server = PosternTestServer.create().option("smtp_receive_timeout", "1s").start()) {
      try (SmtpTestClient c = SmtpTestClient.connect(server.port())) {
        assertEquals(220, c.reply().code());
        long t0 = System.nanoTime();
        Reply r = c.reply();
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(421, r.code(), r.toString());
        assertEquals("4.4.2", r.enhanced(), r.toString());
        assertTrue(ms >= 700 && ms < 5000, "timed out after " + ms + " ms");
        assertTrue(c.closedByServer(), "connection closed after the 421");
      }
      // Activity keeps a session alive past the timeout.
      try (SmtpTestClient c = open(server)) {
        for (int i = 0; i < 5; i++) {
          // Deliberate pacing, not synchronisation: a quiet 0.4 s between commands, 2 s in all,
          // is the activity pattern that must outlive the 1 s timeout.
          Thread.sleep(400);
          assertEquals(250, c.command("NOOP").code(), "NOOP " + i);
        }
      }
    }
  }

  @Test
  void idleClientMidDataTimesOutAndNothingIsStored() throws Exception {
    try (PosternTestServer server = PosternTestServer.create().option("smtp_receive_timeout", "1s").start();
         SmtpTestClient c = open(server)) {
      startData(c, SENDER, "alice@test.example");
      c.send("Subject: stalled\r\n\r\nsome text\r\n");
      Reply r = c.reply();
      assertEquals(421, r.code(), r.toString());
      assertEquals("4.4.2", r.enhanced(), r.toString());
      assertTrue(c.closedByServer(), "connection closed after the 421");
      MAIN_LOG.await(5000, "SMTP data timeout on connection from " + c.hostForLog());
      awaitSpoolEmpty(server);
      assertEquals(List.of(), allMaildirFiles(server));
    }
  }

  // -----------------------------------------------------------------------------------------------
  // Mail loops

  @Test
  void tooManyReceivedHeadersAreRefusedAtTheEndOfDataAndNothingIsKept() throws Exception {
    try (PosternTestServer server = PosternTestServer.create().start();
         SmtpTestClient c = open(server)) {
      // 30 hops plus the one Postern would add: 31, over received_headers_max (30). Headers that
      // only look alike (a folded line, X-Received, a body line) do not count.
      StringBuilder hops = new StringBuilder();
      for (int i = 0; i < 30; i++) {
        hops.append(i % 2 == 0 ? "Received: " : "RECEIVED:").append("from hop").append(i).append(".example\r\n");
      }
      String lookalikes = "X-Received: by filter.example\r\nSubject: loop\r\n Received: folded, not a field\r\n";
      startData(c, SENDER, "alice@test.example");
      c.send(hops + lookalikes + "\r\nReceived: in the body\r\n.\r\n");
      Reply r = c.reply();
      assertEquals(554, r.code(), r.toString());
      assertEquals("5.4.0", r.enhanced(), r.toString());
      assertEquals("5.4.0 Too many \"Received\" headers - suspected mail loop", r.text());
      assertEquals(250, c.command("RSET").code(), "the session goes on");

      // One hop fewer is exactly the limit: accepted and delivered, no bounce.
      startData(c, SENDER, "alice@test.example");
      c.send(hops.substring(hops.indexOf("\r\n") + 2) + lookalikes + "\r\nbody\r\n.\r\n");
      r = c.reply();
      assertEquals(250, r.code(), r.toString());
      assertEquals(1, server.awaitMailbox("alice", 1, 10_000).size());
      awaitSpoolEmpty(server);
      assertEquals(1, allMaildirFiles(server).size(), "nothing but the one accepted message: " + allMaildirFiles(server));
    }
  }

  @Test
  void commandTrickledByteByByteIsCutOffAtTheLineDeadline() throws Exception {
    try (PosternTestServer server = PosternTestServer.create().option("smtp_receive_timeout", "1s").start();
         SmtpTestClient c = open(server)) {
      // One byte every 200 ms never lets the session go idle, but the line is never finished.
      long ms = trickleUntilCutOff(c, "NOOP and more and more and more and more and more");
      assertTrue(ms >= 800 && ms < 4000, "cut off after " + ms + " ms");
    }
  }

  @Test
  void dataLineTrickledByteByByteIsCutOffAtTheLineDeadlineAndNothingIsStored() throws Exception {
    try (PosternTestServer server = PosternTestServer.create().option("smtp_receive_timeout", "1s").start();
         SmtpTestClient c = open(server)) {
      startData(c, SENDER, "alice@test.example");
      c.send("Subject: trickled\r\n\r\n");
      long ms = trickleUntilCutOff(c, "a data line that never ends, a data line that never ends");
      assertTrue(ms >= 800 && ms < 4000, "cut off after " + ms + " ms");
      awaitSpoolEmpty(server);
      assertEquals(List.of(), allMaildirFiles(server));
    }
  }

  @Test
  void completeLinesWithinTheLineDeadlineAreCutOffAtTheDataDeadlineAndNothingIsStored() throws Exception {
    try (PosternTestServer server = PosternTestServer.create().option("smtp_receive_timeout", "1s")
        .option("smtp_data_timeout", "2s").start();
         SmtpTestClient c = open(server)) {
      startData(c, SENDER, "alice@test.example");
      c.send("Subject: endless\r\n\r\n");
      // A whole line every 300 ms meets every line deadline; only the bound on DATA stops it.
      long ms = trickleUntilCutOff(c, "x\r\n");
      assertTrue(ms >= 1500 && ms < 6000, "cut off after " + ms + " ms");
      awaitSpoolEmpty(server);
      assertEquals(List.of(), allMaildirFiles(server));
    }
  }

  /**
   * Sends {@code text} again and again, a byte per 200 ms (or a line per 300 ms when it ends in
   * CRLF), from a Vert.x periodic timer until the server answers; returns how long that took after
   * the first byte. The answer must be the 421 timeout, and the connection must then be closed.
   */
  static long trickleUntilCutOff(SmtpTestClient c, String text) throws Exception {
    io.vertx.core.Vertx clock = io.vertx.core.Vertx.vertx();
    try {
      boolean lines = text.endsWith("\r\n");
      byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
      int[] next = {0};
      long t0 = System.nanoTime();
      clock.setPeriodic(0, lines ? 300 : 200, id -> {
        try {
          if (lines) {
            c.sendRaw(bytes);
          } else {
            c.sendRaw(new byte[] {bytes[next[0]++ % bytes.length]});
          }
        } catch (IOException closed) {
          clock.cancelTimer(id);
        }
      });
      // The socket's read timeout (10 s) is the deadline: before per-line deadlines this never came.
      Reply r = c.reply();
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertEquals(421, r.code(), r.toString());
      assertEquals("4.4.2", r.enhanced(), r.toString());
      assertTrue(c.closedByServer(), "connection closed after the 421");
      return ms;
    } finally {
      clock.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  // -----------------------------------------------------------------------------------------------
  // Connection limits

  @Test
  void perHostConnectionLimit() throws Exception {
    try (PosternTestServer server = PosternTestServer.create().option("smtp_accept_max_per_host", "2").start();
         SmtpTestClient a = SmtpTestClient.connect(server.port());
         SmtpTestClient b = SmtpTestClient.connect(server.port())) {
      assertEquals(220, a.reply().code());
      assertEquals(220, b.reply().code());
      try (SmtpTestClient third = SmtpTestClient.connect(server.port())) {
        Reply r = third.reply();
        assertEquals(421, r.code(), r.toString());
        assertEquals("4.7.0", r.enhanced(), r.toString());
        assertTrue(third.closedByServer(), "refused connection is closed");
      }
      // Another host is not affected by 127.0.0.1's count.
      try (SmtpTestClient other = SmtpTestClient.connectFrom("127.0.0.2", server.port())) {
        assertEquals(220, other.reply().code());
      }
      // The refused attempt did not use up a slot, and a closed session frees one.
      a.close();
      assertEquals(220, connectUntilAccepted(server, "127.0.0.1"));
      assertEquals(250, b.command("NOOP").code(), "the surviving session still works");
    }
  }

  /** Many connects and disconnects racing on several event loops must not corrupt the per-host count. */
  @Test
  void perHostLimitStillHoldsAfterConnectionChurn() throws Exception {
    try (PosternTestServer server = PosternTestServer.create().option("smtp_accept_max_per_host", "3").start()) {
      ExecutorService pool = Executors.newFixedThreadPool(16);
      try {
        long end = System.currentTimeMillis() + 1500;
        List<Future<?>> churn = new ArrayList<>();
        for (int t = 0; t < 16; t++) {
          churn.add(pool.submit(() -> {
            while (System.currentTimeMillis() < end) {
              try (SmtpTestClient c = SmtpTestClient.connect(server.port())) {
                int code = c.reply().code();
                assertTrue(code == 220 || code == 421, "reply " + code);
              }
            }
            return null;
          }));
        }
        for (Future<?> f : churn) {
          f.get(30, TimeUnit.SECONDS);
        }
      } finally {
        pool.shutdownNow();
      }
      // Every churn connection is closed; the server may take a moment to notice.
      List<SmtpTestClient> held = new ArrayList<>();
      try {
        for (int i = 0; i < 3; i++) {
          held.add(connectAccepted(server));
        }
        try (SmtpTestClient fourth = SmtpTestClient.connect(server.port())) {
          Reply r = fourth.reply();
          assertEquals(421, r.code(), "limit of 3 per host after churn: " + r);
        }
      } finally {
        for (SmtpTestClient c : held) {
          c.close();
        }
      }
    }
  }

  @Test
  void totalConnectionLimit() throws Exception {
    try (PosternTestServer server = PosternTestServer.create().option("smtp_accept_max", "3").start();
         SmtpTestClient a = SmtpTestClient.connect(server.port());
         SmtpTestClient b = SmtpTestClient.connectFrom("127.0.0.2", server.port());
         SmtpTestClient c = SmtpTestClient.connectFrom("127.0.0.3", server.port())) {
      assertEquals(220, a.reply().code());
      assertEquals(220, b.reply().code());
      assertEquals(220, c.reply().code());
      for (String from : List.of("127.0.0.2", "127.0.0.4")) {
        try (SmtpTestClient fourth = SmtpTestClient.connectFrom(from, server.port())) {
          Reply r = fourth.reply();
          assertEquals(421, r.code(), from + ": " + r);
          assertEquals("4.7.0", r.enhanced(), r.toString());
          assertTrue(fourth.closedByServer(), "refused connection is closed");
        }
      }
      b.close();
      assertEquals(220, connectUntilAccepted(server, "127.0.0.4"));
      assertEquals(250, a.command("NOOP").code());
      assertEquals(250, c.command("NOOP").code());
    }
  }

  // -----------------------------------------------------------------------------------------------
  // Volume

  @Test
  void hundredSequentialSessionsDeliverHundredDistinctMessages() throws Exception {
    try (PosternTestServer server = PosternTestServer.create().start()) {
      for (int i = 0; i < 100; i++) {
        try (SmtpTestClient c = open(server)) {
          sendOne(c, "seq-" + i);
          assertEquals(221, c.command("QUIT").code());
        }
      }
      assertEachExactlyOnce(server, "seq-", 100);
    }
  }

  @Test
  void fiftyConcurrentSessionsOfTwoMessagesEach() throws Exception {
    try (PosternTestServer server = PosternTestServer.create().start()) {
      ExecutorService pool = Executors.newFixedThreadPool(50);
      try {
        CountDownLatch go = new CountDownLatch(1);
        List<Future<?>> results = new ArrayList<>();
        for (int t = 0; t < 50; t++) {
          int thread = t;
          results.add(pool.submit(() -> {
            go.await();
            try (SmtpTestClient c = open(server)) {
              sendOne(c, "par-" + (2 * thread));
              sendOne(c, "par-" + (2 * thread + 1));
              assertEquals(221, c.command("QUIT").code());
            }
            return null;
          }));
        }
        go.countDown();
        for (Future<?> f : results) {
          f.get(45, TimeUnit.SECONDS);
        }
      } finally {
        pool.shutdownNow();
      }
      assertEachExactlyOnce(server, "par-", 100);
    }
  }

  @Test
  void multiRecipientMessageIsDeliveredOnceToEachMailbox() throws Exception {
    String message = "Subject: to three\r\nMessage-ID: <three@client.example>\r\n\r\nfor all of you\r\n";
    try (PosternTestServer server = PosternTestServer.create().start();
         SmtpTestClient c = open(server)) {
      assertEquals(250, c.command("MAIL FROM:<" + SENDER + ">").code());
      for (String rcpt : List.of("alice@test.example", "bob@test.example", "postmaster@test.example")) {
        Reply r = c.command("RCPT TO:<" + rcpt + ">");
        assertEquals(250, r.code(), rcpt + ": " + r);
      }
      assertEquals(354, c.command("DATA").code());
      c.send(message + ".\r\n");
      Reply r = c.reply();
      assertEquals(250, r.code(), r.toString());
      assertEquals(221, c.command("QUIT").code());

      for (String user : List.of("alice", "bob", "admin")) {
        assertEquals(1, server.awaitMailbox(user, 1, 5000).size(), user);
      }
      MAIN_LOG.awaitCompleted(idOf(r), 5000);
      awaitSpoolEmpty(server);
      for (String user : List.of("alice", "bob", "admin")) {
        List<Path> files = server.mailbox(user);
        assertEquals(1, files.size(), user + " got exactly one copy: " + files);
        byte[] stored = Files.readAllBytes(files.get(0));
        assertEquals(message, new String(afterTrace(stored, SENDER), ISO_8859_1), user);
        String trace = new String(stored, ISO_8859_1);
        trace = trace.substring(0, trace.length() - message.length());
        assertFalse(trace.contains("for <"), "a multi-recipient copy must not name a recipient: " + trace);
      }
      assertEquals(3, allMaildirFiles(server).size(), "no other mailbox got anything");
    }
  }

  // -----------------------------------------------------------------------------------------------
  // Helpers

  /** Connects, reads the banner and says EHLO. */
  private static SmtpTestClient open(PosternTestServer server) throws IOException {
    SmtpTestClient c = SmtpTestClient.connect(server.port());
    Reply banner = c.reply();
    assertEquals(220, banner.code(), banner.toString());
    Reply ehlo = c.command("EHLO client.example");
    assertEquals(250, ehlo.code(), ehlo.toString());
    return c;
  }

  private static void startData(SmtpTestClient c, String sender, String recipient) throws IOException {
    Reply r = c.command("MAIL FROM:<" + sender + ">");
    assertEquals(250, r.code(), r.toString());
    r = c.command("RCPT TO:<" + recipient + ">");
    assertEquals(250, r.code(), r.toString());
    r = c.command("DATA");
    assertEquals(354, r.code(), r.toString());
  }

  private static void sendOne(SmtpTestClient c, String tag) throws IOException {
    startData(c, SENDER, "alice@test.example");
    c.send("Message-ID: <" + tag + "@client.example>\r\nSubject: " + tag + "\r\n\r\nbody of " + tag + "\r\n.\r\n");
    Reply r = c.reply();
    assertEquals(250, r.code(), tag + ": " + r);
  }

  /** Alice holds exactly {@code count} messages, tagged prefix0..prefix(count-1), each once. */
  private static void assertEachExactlyOnce(PosternTestServer server, String prefix, int count) throws Exception {
    server.awaitMailbox("alice", count, 30_000);
    awaitSpoolEmpty(server);
    List<Path> files = server.mailbox("alice");
    Map<String, Integer> seen = new HashMap<>();
    Pattern subject = Pattern.compile("\r\nSubject: (\\S+)\r\n");
    for (Path f : files) {
      String text = Files.readString(f, ISO_8859_1);
      Matcher m = subject.matcher(text);
      assertTrue(m.find(), "no Subject in " + f);
      String tag = m.group(1);
      assertTrue(text.endsWith("Message-ID: <" + tag + "@client.example>\r\nSubject: " + tag + "\r\n\r\nbody of "
          + tag + "\r\n"), "content of " + f + ": " + text);
      seen.merge(tag, 1, Integer::sum);
    }
    List<String> problems = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      int n = seen.getOrDefault(prefix + i, 0);
      if (n != 1) {
        problems.add(prefix + i + " x" + n);
      }
    }
    assertEquals(List.of(), problems, "messages not delivered exactly once");
    assertEquals(count, files.size(), "mailbox size");
  }

  /** Waits up to 5 s for the spool's input directory to be empty, then asserts it is. */
  private static void awaitSpoolEmpty(PosternTestServer server) throws Exception {
    server.awaitSpoolEmpty(5000);
  }

  /** The message id of a 250 reply to the dot ({@code ... id=<id>}). */
  private static String idOf(Reply accepted) {
    return accepted.text().replaceAll(".*id=", "").strip();
  }

  /** Every file in any maildir's new/, cur/ or tmp/. */
  private static List<Path> allMaildirFiles(PosternTestServer server) throws IOException {
    Path root = server.root().resolve("maildir");
    if (!Files.isDirectory(root)) {
      return List.of();
    }
    try (Stream<Path> walk = Files.walk(root)) {
      return walk.filter(Files::isRegularFile).sorted().toList();
    }
  }

  /** The next read times out: the server sent nothing more. */
  private static void assertNoFurtherReply(SmtpTestClient c) throws IOException {
    c.timeout(400);
    try {
      assertThrows(SocketTimeoutException.class, c::reply, "an extra reply arrived");
    } finally {
      c.timeout(10_000);
    }
  }

  /** Retries briefly: the server frees a slot when it notices the close, asynchronously. */
  private static int connectUntilAccepted(PosternTestServer server, String from) throws Exception {
    Reply last = Await.value(3000, () -> {
      try (SmtpTestClient c = SmtpTestClient.connectFrom(from, server.port())) {
        Reply r = c.reply();
        if (r.code() == 220) {
          assertEquals(250, c.command("NOOP").code());
        }
        return r;
      }
    }, r -> r.code() == 220);
    assertEquals(220, last.code(), () -> "no connection accepted within 3 s; last reply " + last);
    return 220;
  }

  /** A connection from 127.0.0.1 that got its 220 (retrying while closed sessions are released). */
  private static SmtpTestClient connectAccepted(PosternTestServer server) throws Exception {
    List<Reply> last = new ArrayList<>();
    SmtpTestClient accepted = Await.value(3000, () -> {
      SmtpTestClient c = SmtpTestClient.connect(server.port());
      Reply r = c.reply();
      if (r.code() == 220) {
        return c;
      }
      last.add(r);
      c.close();
      return null;
    }, c -> c != null);
    if (accepted == null) {
      fail("no connection accepted within 3 s; last reply " + last.get(last.size() - 1));
    }
    return accepted;
  }

  /**
   * Strips Postern's trace: checks the Return-Path line and the (folded) Received header that
   * follow it and returns the bytes after them, i.e. the message as received.
   */
  static byte[] afterTrace(byte[] stored, String sender) {
    String s = new String(stored, ISO_8859_1);
    String returnPath = "Return-Path: <" + sender + ">\r\n";
    assertTrue(s.startsWith(returnPath), "starts with " + returnPath.strip() + ": " + s);
    int i = returnPath.length();
    assertTrue(s.startsWith("Received: ", i), "Received header follows: " + s);
    do {
      int eol = s.indexOf("\r\n", i);
      assertTrue(eol > 0, "unterminated trace header: " + s);
      i = eol + 2;
    } while (i < s.length() && (s.charAt(i) == '\t' || s.charAt(i) == ' '));
    return Arrays.copyOfRange(stored, i, stored.length);
  }

  /** RFC 5321 4.5.2 transparency: a dot is added at the start of every line that starts with one. */
  static byte[] stuff(byte[] message) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(message.length + 64);
    boolean lineStart = true;
    for (int i = 0; i < message.length; i++) {
      byte b = message[i];
      if (lineStart && b == '.') {
        out.write('.');
      }
      out.write(b);
      lineStart = b == '\n' && i > 0 && message[i - 1] == '\r';
    }
    return out.toByteArray();
  }

  /** Removes the leading dot of every CRLF-delimited line that has one and other characters. */
  static String unstuff(String content) {
    String[] lines = content.split("\r\n", -1);
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i];
      out.append(line.length() > 1 && line.charAt(0) == '.' ? line.substring(1) : line);
      if (i < lines.length - 1) {
        out.append("\r\n");
      }
    }
    return out.toString();
  }

  /** Bare CR and bare LF become CRLF. */
  static String normalize(String content) {
    return content.replaceAll("\r(?!\n)|(?<!\r)\n", "\r\n");
  }

  private static byte[] crlf() {
    return "\r\n".getBytes(StandardCharsets.US_ASCII);
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
