package org.postern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postern.spool.FileSystemSpace;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient;
import org.postern.testing.SmtpTestClient.Reply;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Exim's {@code check_spool_space} family against the real file system of the test's temporary
 * directory: thresholds above what it has left make the real statvfs(2) reading trip.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class StorageCheckTest {

  private static long freeBytes(PosternTestServer server) throws Exception {
    return Files.getFileStore(server.root()).getUsableSpace();
  }

  private static SmtpTestClient open(PosternTestServer server) throws Exception {
    SmtpTestClient c = SmtpTestClient.connect(server.port());
    assertEquals(220, c.reply().code());
    assertEquals(250, c.command("EHLO client.example").code());
    return c;
  }

  /** MAIL gets 452 4.3.1, the transaction never starts and the spool stays empty. */
  private static void assertRefusedAtMail(PosternTestServer server, String mail) throws Exception {
    try (SmtpTestClient c = open(server)) {
      Reply r = c.command(mail);
      assertEquals(452, r.code(), r.toString());
      assertEquals("4.3.1", r.enhanced(), r.toString());
      Reply rcpt = c.command("RCPT TO:<alice@test.example>");
      assertEquals(503, rcpt.code(), "no sender was taken: " + rcpt);
      assertEquals(250, c.command("RSET").code(), "the session goes on");
    }
    assertEquals(List.of(), server.spoolFiles());
    assertEquals(List.of(), server.mailbox("alice"));
  }

  @Test
  void spoolSpaceBelowTheThresholdGets452AtMail() throws Exception {
    try (PosternTestServer server = PosternTestServer.create()) {
      long kilobytes = freeBytes(server) / 1024;
      server.option("check_spool_space", String.valueOf(kilobytes * 2) + "K").start();
      assertRefusedAtMail(server, "MAIL FROM:<sender@example.org>");
    }
  }

  @Test
  void spoolInodesBelowTheThresholdGet452AtMail() throws Exception {
    try (PosternTestServer server = PosternTestServer.create()) {
      assumeTrue(FileSystemSpace.of(server.root()).freeInodes() >= 0, "this file system counts no inodes");
      server.option("check_spool_inodes", String.valueOf(Integer.MAX_VALUE)).start();
      assertRefusedAtMail(server, "MAIL FROM:<sender@example.org>");
    }
  }

  @Test
  void logSpaceBelowTheThresholdGets452AtMail() throws Exception {
    try (PosternTestServer server = PosternTestServer.create()) {
      Path log = Files.createDirectories(server.root().resolve("log"));
      long kilobytes = Files.getFileStore(log).getUsableSpace() / 1024;
      // A bare number is in kilobytes, as in Exim.
      server.option("check_log_space", String.valueOf(kilobytes * 2)).start();
      assertRefusedAtMail(server, "MAIL FROM:<sender@example.org>");
    }
  }

  @Test
  void aDeclaredSizeTheSpoolCannotHoldGets452WhileASmallOnePasses() throws Exception {
    try (PosternTestServer server = PosternTestServer.create()) {
      long free = freeBytes(server);
      server.option("check_spool_space", "1K").option("message_size_limit", String.valueOf(free * 4)).start();
      assertRefusedAtMail(server, "MAIL FROM:<sender@example.org> SIZE=" + (free * 2));
      try (SmtpTestClient c = open(server)) {
        assertEquals(250, c.command("MAIL FROM:<sender@example.org> SIZE=1000").code());
        assertEquals(250, c.command("RCPT TO:<alice@test.example>").code());
        assertEquals(354, c.command("DATA").code());
        c.send("Subject: fits\r\n\r\nsmall\r\n.\r\n");
        Reply r = c.reply();
        assertEquals(250, r.code(), r.toString());
      }
      assertEquals(1, server.awaitMailbox("alice", 1, 10_000).size());
    }
  }
}
