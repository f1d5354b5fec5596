package org.postern.cli;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postern.testing.ChildPostern;
import org.postern.testing.ChildPostern.Result;
import org.postern.testing.MainLogFile;
import org.postern.testing.PosternTestServer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Postern as {@code /usr/sbin/sendmail}: a child process reads the message on stdin as cron, mailx
 * and PHP's {@code mail()} pass it, and the test reads what reached the maildirs and the exit
 * status ({@code sysexits.h}).
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class SendmailTest {
  private PosternTestServer files;
  private Path config;

  @BeforeEach
  void setUp() throws Exception {
    files = PosternTestServer.create();
    config = files.writeConfig();
  }

  @AfterEach
  void tearDown() throws Exception {
    files.close();
  }

  private Result sendmail(String input, String... args) throws Exception {
    return ChildPostern.run(files.root(), config, input, args);
  }

  private String only(String user) throws Exception {
    List<Path> box = files.mailbox(user);
    assertEquals(1, box.size(), user + ": " + box);
    return Files.readString(box.get(0), StandardCharsets.ISO_8859_1);
  }

  @Test
  void dashTTakesToCcAndBccRemovesBccAndAddsTheMissingHeaders() throws Exception {
    Result r = sendmail("To: Alice <alice@test.example>\nCc: bob\nBcc: admin@test.example\nSubject: report\n\n"
        + "line one\n.hidden line\n.\nafter the dot\n", "-t", "-i");
    assertEquals(0, r.exit(), r::toString);
    for (String user : List.of("alice", "bob", "admin")) {
      String message = only(user);
      assertFalse(message.contains("Bcc:"), user + " must not see the blind copy:\n" + message);
      assertTrue(message.contains("\r\nSubject: report\r\n"), message);
      assertTrue(message.contains("\r\nFrom: " + System.getProperty("user.name") + "@"), "From added:\n" + message);
      assertTrue(message.contains("\r\nDate: "), "Date added:\n" + message);
      assertTrue(message.contains("\r\nMessage-ID: <"), "Message-ID added:\n" + message);
      assertTrue(message.endsWith("\r\n\r\nline one\r\n.hidden line\r\n.\r\nafter the dot\r\n"),
          "with -i the dot line is content, and dots are unstuffed as sent:\n" + message);
    }
    String arrival = MainLogFile.event(new MainLogFile(files.root().resolve("log/mainlog"))
        .await(10_000, " <= " + System.getProperty("user.name") + "@"));
    assertTrue(arrival.contains("P=local-esmtp"), arrival);
  }

  @Test
  void withoutDashIASingleDotEndsTheMessage() throws Exception {
    Result r = sendmail("Subject: dot\n\nbefore\n.\nafter\n", "alice@test.example");
    assertEquals(0, r.exit(), r::toString);
    String message = only("alice");
    assertTrue(message.endsWith("\r\n\r\nbefore\r\n"), message);
  }

  @Test
  void dashTLeavesOutTheAddressesOnTheCommandLine() throws Exception {
    Result r = sendmail("To: alice@test.example, bob@test.example\nSubject: x\n\nbody\n", "-t", "bob@test.example");
    assertEquals(0, r.exit(), r::toString);
    only("alice");
    assertEquals(List.of(), files.mailbox("bob"));
  }

  @Test
  void senderAndFullNameFromTheCommandLine() throws Exception {
    Result r = sendmail("Subject: cron\n\noutput\n", "-f", "robot@example.org", "-FCron Daemon", "-oem",
        "-B8BITMIME", "alice");
    assertEquals(0, r.exit(), r::toString);
    String message = only("alice");
    assertTrue(message.contains("\r\nFrom: Cron Daemon <" + System.getProperty("user.name") + "@"), message);
    new MainLogFile(files.root().resolve("log/mainlog")).await(10_000, " <= robot@example.org ");
  }

  @Test
  void exitStatusSaysWhatWentWrongAndNothingIsLostOrSentByMistake() throws Exception {
    Result none = sendmail("To: \nSubject: x\n\nbody\n", "-t");
    assertEquals(SendmailSubmission.EX_USAGE, none.exit(), none::toString);
    assertTrue(none.stderr().contains("no recipients"), none::toString);

    Result partly = sendmail("Subject: x\n\nbody\n", "alice@test.example", "nobody@test.example");
    assertEquals(SendmailSubmission.EX_NOUSER, partly.exit(), partly::toString);
    assertTrue(partly.stderr().contains("recipient refused: nobody@test.example: "), partly::toString);
    only("alice");

    Result all = sendmail("Subject: y\n\nbody\n", "nobody@test.example");
    assertEquals(SendmailSubmission.EX_NOUSER, all.exit(), all::toString);
    assertEquals(1, files.mailbox("alice").size(), "nothing more delivered");

    Result usage = sendmail("", "-i");
    assertEquals(2, usage.exit(), usage::toString);
    assertTrue(usage.stderr().contains("-i, -f and -F go with -bm or -t"), usage::toString);
  }
}
