package org.postern.log;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postern.testing.ChildPostern;
import org.postern.testing.MainLogFile;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The daemon's own log files: {@code log_rotate_size} cuts the main log while messages arrive,
 * without losing a line, and SIGUSR1 reopens it by name after an external rename.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DaemonLogFilesTest {
  private PosternTestServer files;
  private ChildPostern daemon;
  private int port;
  private Path logDir;

  @BeforeEach
  void start() throws Exception {
    port = ChildPostern.freePort();
    files = PosternTestServer.create().option("listeners", "{ smtp: { address: 127.0.0.1, port: " + port + " } }")
        .option("log_rotate_size", "2K");
    daemon = ChildPostern.daemon(files.root(), files.writeConfig(), port);
    logDir = files.root().resolve("log");
  }

  @AfterEach
  void stop() throws Exception {
    if (daemon != null) {
      daemon.close();
    }
    files.close();
  }

  private String send(int n) throws Exception {
    try (SmtpTestClient c = SmtpTestClient.connect(port)) {
      assertEquals(220, c.reply().code());
      assertEquals(250, c.command("EHLO client.example").code());
      assertEquals(250, c.command("MAIL FROM:<sender@example.org>").code());
      assertEquals(250, c.command("RCPT TO:<alice@test.example>").code());
      assertEquals(354, c.command("DATA").code());
      SmtpTestClient.Reply ok = c.command("Subject: " + n + "\r\n\r\nbody " + n + "\r\n.");
      assertEquals(250, ok.code(), ok.toString());
      c.command("QUIT");
      return ok.text().replaceAll(".*id=", "");
    }
  }

  private List<String> allMainLogLines() throws Exception {
    List<String> lines = new ArrayList<>();
    try (var s = Files.list(logDir)) {
      for (Path p : s.filter(p -> p.getFileName().toString().startsWith("mainlog")).sorted().toList()) {
        lines.addAll(Files.readAllLines(p));
      }
    }
    return lines;
  }

  @Test
  void theDaemonCutsItsMainLogBySizeAndKeepsEveryLine() throws Exception {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      ids.add(send(i));
    }
    MainLogFile current = new MainLogFile(logDir.resolve("mainlog"));
    for (String id : ids) {
      // Completed is the last line of each message: once it is there, all of them are.
      org.postern.testing.Await.until("Completed for " + id, 10_000,
          () -> allMainLogLines().stream().anyMatch(l -> l.contains(id + " Completed")));
    }
    Path firstCut = logDir.resolve("mainlog." + LocalDate.now());
    assertTrue(Files.exists(firstCut), "no size cut: " + String.join(", ", logDir.toFile().list()));
    assertTrue(Files.size(current.file()) <= 2048, "current main log " + Files.size(current.file()) + " bytes");
    List<String> all = allMainLogLines();
    for (String id : ids) {
      assertEquals(1, all.stream().filter(l -> l.contains(id + " <= ")).count(), id + " arrival once");
      assertEquals(1, all.stream().filter(l -> l.contains(id + " Completed")).count(), id + " completion once");
    }
  }

  @Test
  void sigusr1ReopensTheMainLogByName() throws Exception {
    String before = send(1);
    Path renamed = logDir.resolve("mainlog.external");
    MainLogFile mainlog = new MainLogFile(logDir.resolve("mainlog"));
    mainlog.awaitCompleted(before, 10_000);
    Files.move(mainlog.file(), renamed);
    Process kill = new ProcessBuilder("kill", "-USR1", Long.toString(daemon.process().pid())).start();
    assertEquals(0, kill.waitFor());
    mainlog.await(10_000, "log files reopened on SIGUSR1");
    String after = send(2);
    mainlog.awaitCompleted(after, 10_000);
    assertTrue(Files.readString(renamed).contains(before + " <= "), "the old lines stay in the renamed file");
  }
}
