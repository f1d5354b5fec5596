package org.postern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.postern.testing.MainLogFile;
import org.postern.testing.PosternTestServer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * An independent BDAT client: Exim 4's smtp transport, from the Debian package that {@code .ci/run}
 * extracts into {@code .ci/exim} (not installed). Exim reads the message from stdin, routes it
 * with {@code manualroute} to Postern, and sends it with BDAT because Postern offers CHUNKING; its
 * log's {@code K} says so. Skipped only when the extracted Exim is absent.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class EximChunkingClientTest {
  private static final Path EXIM_ROOT = Path.of(System.getProperty("postern.exim", ".ci/exim")).toAbsolutePath();
  private static final Path EXIM = EXIM_ROOT.resolve("usr/sbin/exim4");
  private static final Path LIBS = EXIM_ROOT.resolve("usr/lib/x86_64-linux-gnu");
  private static final MainLogFile MAIN_LOG = MainLogFile.ofTestJvm();
  private static final String SENDER = "sender@example.org";

  @TempDir
  Path dir;

  @Test
  void eximSendsWithBdatAndPosternStoresEveryByte() throws Exception {
    assumeTrue(Files.isExecutable(EXIM), "no extracted Exim at " + EXIM
        + ": .ci/run extracts the Debian package exim4-daemon-light there (apt-get download + dpkg -x)");
    // Dot lines, a DATA terminator look-alike, and (second message) more than one spool spill.
    String small = "Subject: from exim\n\n.\n..\n.\nQUIT\nend\n";
    StringBuilder big = new StringBuilder("Subject: big from exim\n\n");
    for (int i = 0; i < 6000; i++) {
      big.append(i % 100 == 0 ? "." : "").append("line ").append(i).append(" of a message over 256 KB ").append("x".repeat(30)).append('\n');
    }
    try (PosternTestServer server = PosternTestServer.create().start()) {
      Path eximLog = sendWithExim(server.port(), small);
      sendWithExim(server.port(), big.toString());

      String delivery = Files.readAllLines(eximLog, UTF_8).stream().filter(l -> l.contains("=> alice@test.example"))
          .findFirst().orElseThrow(() -> new AssertionError("no delivery in Exim's log: " + read(eximLog)));
      assertTrue(delivery.contains(" K C=\"250 2.0.0 OK id="), "Exim used CHUNKING (K): " + delivery);
      String id = delivery.replaceAll(".* OK id=([^\"]+)\".*", "$1");
      String arrival = MAIN_LOG.await(5000, id + " <= " + SENDER);
      assertTrue(arrival.contains(" K S="), arrival);

      List<Path> files = server.awaitMailbox("alice", 2, 10_000);
      List<String> stored = new ArrayList<>();
      for (Path f : files) {
        stored.add(new String(DataPhaseTest.afterTrace(Files.readAllBytes(f), SENDER), ISO_8859_1));
      }
      stored.sort((a, b) -> Integer.compare(a.length(), b.length()));
      assertTrue(stored.get(0).endsWith("\r\n\r\n.\r\n..\r\n.\r\nQUIT\r\nend\r\n"), stored.get(0));
      assertTrue(stored.get(0).contains("\r\nSubject: from exim\r\n"), stored.get(0));
      String bigWire = big.toString().replace("\n", "\r\n");
      assertTrue(stored.get(1).endsWith(bigWire.substring(bigWire.indexOf("\r\n\r\n"))), "the big one, byte exact");
    }
  }

  /** Runs Exim in the foreground ({@code -odf}) to deliver one message to Postern; returns Exim's main log. */
  private Path sendWithExim(int port, String message) throws Exception {
    Path spool = Files.createDirectories(dir.resolve("spool"));
    Path log = Files.createDirectories(dir.resolve("log"));
    // Exim's delivery processes run as its own user (nss_wrapper's Debian-exim): they share the directories.
    for (Path p : List.of(dir, spool, log)) {
      Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxrwxrwx"));
    }
    Path passwd = dir.resolve("passwd");
    Files.writeString(passwd, "root:x:0:0:root:/root:/bin/sh\nDebian-exim:x:65534:65534::/nonexistent:/bin/false\n");
    Path group = dir.resolve("group");
    Files.writeString(group, "root:x:0:\nDebian-exim:x:65534:\n");
    Path conf = dir.resolve("exim.conf");
    Files.writeString(conf, String.join("\n",
        "primary_hostname = exim.test.example",
        "qualify_domain = exim.test.example",
        "exim_path = " + EXIM,
        "spool_directory = " + spool,
        "log_file_path = " + log + "/%slog",
        "keep_environment = LD_LIBRARY_PATH : LD_PRELOAD : NSS_WRAPPER_PASSWD : NSS_WRAPPER_GROUP",
        "begin routers",
        "postern:",
        "  driver = manualroute",
        "  route_list = * 127.0.0.1",
        "  transport = to_postern",
        "  self = send",
        "begin transports",
        "to_postern:",
        "  driver = smtp",
        "  port = " + port,
        "  allow_localhost",
        "  hosts_try_chunking = *",
        "begin retry",
        "* * F,1m,1m",
        ""));
    Path input = dir.resolve("message");
    Files.writeString(input, message, ISO_8859_1);
    ProcessBuilder pb = new ProcessBuilder(EXIM.toString(), "-C", conf.toString(), "-odf", "-oi", "-f", SENDER,
        "alice@test.example").redirectInput(input.toFile()).redirectErrorStream(true)
        .redirectOutput(dir.resolve("exim.out").toFile());
    Map<String, String> env = pb.environment();
    env.put("LD_LIBRARY_PATH", LIBS.toString());
    env.put("LD_PRELOAD", LIBS.resolve("libnss_wrapper.so").toString());
    env.put("NSS_WRAPPER_PASSWD", passwd.toString());
    env.put("NSS_WRAPPER_GROUP", group.toString());
    Process exim = pb.start();
    assertTrue(exim.waitFor(60, TimeUnit.SECONDS), "Exim did not finish");
    assertEquals(0, exim.exitValue(), "Exim: " + read(dir.resolve("exim.out")) + read(log.resolve("mainlog")));
    return log.resolve("mainlog");
  }

  private static String read(Path file) {
    try {
      return Files.exists(file) ? Files.readString(file, UTF_8) : "";
    } catch (IOException e) {
      return e.toString();
    }
  }
}
