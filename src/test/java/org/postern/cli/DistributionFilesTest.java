package org.postern.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.postern.testing.ChildPostern;
import org.postern.testing.PosternTestServer;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
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
}
