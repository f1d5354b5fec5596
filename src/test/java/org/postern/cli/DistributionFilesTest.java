package org.postern.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.postern.testing.Await;
import org.postern.testing.ChildPostern;
import org.postern.testing.PosternTestServer;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The files that install Postern as a service: the systemd unit passes {@code systemd-analyze
 * verify} (no warning either), and the launcher finds the jar and runs commands with its JVM
 * settings.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DistributionFilesTest {
  private static final Path UNIT = Path.of("src/dist/systemd/postern.service");
  private static final Path LAUNCHER = Path.of("src/dist/bin/postern").toAbsolutePath();

  @TempDir
  Path dir;

  private record Run(int exit, String out) {
  }

  private static Run run(ProcessBuilder pb) throws Exception {
    pb.redirectErrorStream(true);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), String.join(" ", pb.command()) + " did not end");
    return new Run(p.exitValue(), out);
  }

  @Test
  void theSystemdUnitVerifiesWithoutAWarning() throws Exception {
    // systemd-analyze checks that the commands exist: point them at the launcher in this tree.
    String unit = Files.readString(UNIT).replace("/usr/bin/postern", LAUNCHER.toString());
    Path copy = dir.resolve("postern.service");
    Files.writeString(copy, unit);
    Run r = run(new ProcessBuilder("systemd-analyze", "verify", copy.toString()));
    assertEquals(0, r.exit(), r.out());
    assertEquals("", r.out().strip(), "systemd-analyze had something to say");
    assertTrue(unit.contains("AmbientCapabilities=CAP_NET_BIND_SERVICE"), "binds port 25 unprivileged");
    assertTrue(unit.contains("ExecReload=/bin/kill -HUP $MAINPID"), "systemctl reload is SIGHUP");
  }

  /** A jar of nothing but a manifest naming the main class and the test classpath: what -jar needs. */
  private Path manifestJar() throws IOException {
    Manifest manifest = new Manifest();
    manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, PosternCommand.class.getName());
    List<String> urls = new ArrayList<>();
    for (String entry : ChildPostern.classPath().split(File.pathSeparator)) {
      urls.add(Path.of(entry).toUri().toString());
    }
    manifest.getMainAttributes().put(Attributes.Name.CLASS_PATH, String.join(" ", urls));
    Path jar = dir.resolve("postern.jar");
    try (OutputStream out = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(out, manifest)) {
      j.flush();
    }
    return jar;
  }

  @Test
  void theLauncherRunsTheJarAndPassesEveryArgument() throws Exception {
    try (PosternTestServer files = PosternTestServer.create()) {
      Path config = files.writeConfig();
      ProcessBuilder pb = new ProcessBuilder(LAUNCHER.toString(), "-C", config.toString(), "-bV");
      pb.environment().put("POSTERN_JAR", manifestJar().toString());
      Run r = run(pb);
      assertEquals(0, r.exit(), r.out());
      assertTrue(r.out().startsWith("Postern "), r.out());
      assertTrue(r.out().contains("Configuration file is " + config), r.out());

      ProcessBuilder missing = new ProcessBuilder(LAUNCHER.toString(), "-bV");
      missing.environment().put("POSTERN_JAR", dir.resolve("nowhere.jar").toString());
      Run m = run(missing);
      assertEquals(70, m.exit(), m.out());
      assertTrue(m.out().contains("postern.jar not found"), m.out());
    }
  }

  /**
   * The daemon gets the launcher's native-memory settings (src/bench/README.md, "Peak RSS under
   * load"): the monitor-deflation and malloc-trim options on a JVM that takes them (this one does),
   * and two glibc malloc arenas. Read from the running process, as the kernel sees it.
   */
  @Test
  void theDaemonRunsWithTheLaunchersNativeMemorySettings() throws Exception {
    int port = ChildPostern.freePort();
    try (PosternTestServer files = PosternTestServer.create()
        .option("listeners", "{ smtp: { address: 127.0.0.1, port: " + port + " } }")
        .option("tls_on_connect_ports", "\"\"")) {
      ProcessBuilder pb = new ProcessBuilder(LAUNCHER.toString(), "-bd", "-C", files.writeConfig().toString());
      pb.environment().put("POSTERN_JAR", manifestJar().toString());
      pb.environment().remove("MALLOC_ARENA_MAX");
      pb.redirectErrorStream(true).redirectOutput(dir.resolve("daemon.out").toFile());
      Process daemon = pb.start();
      try {
        assertTrue(Await.holdsWithin(30_000, () -> answers(port)),
            () -> "daemon did not listen: " + read(dir.resolve("daemon.out")));
        Path proc = Path.of("/proc", Long.toString(daemon.pid()));
        List<String> args = List.of(read(proc.resolve("cmdline")).split("\0"));
        assertTrue(args.contains("-XX:AvgMonitorsPerThreadEstimate=64"), args::toString);
        assertTrue(args.contains("-XX:TrimNativeHeapInterval=2000"), args::toString);
        assertTrue(List.of(read(proc.resolve("environ")).split("\0")).contains("MALLOC_ARENA_MAX=2"));
      } finally {
        daemon.destroyForcibly().waitFor(20, TimeUnit.SECONDS);
      }
    }
  }

  private static boolean answers(int port) {
    try (Socket s = new Socket("127.0.0.1", port)) {
      return s.getInputStream().read() == '2';
    } catch (IOException e) {
      return false;
    }
  }

  private static String read(Path file) {
    try {
      return new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
    } catch (IOException e) {
      return e.toString();
    }
  }
}
