package org.postern.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Which configuration file a command reads, on real directories: -C, $POSTERN_CONFIG, ./conf, /etc/postern. */
class ConfigLocationTest {
  @TempDir
  Path dir;

  @Test
  void optionThenEnvironmentThenWorkingTreeThenSystem() throws Exception {
    Path cwd = Files.createDirectories(dir.resolve("work"));
    Path system = Files.createDirectories(dir.resolve("etc/postern")).resolve("postern.yaml");
    Path local = cwd.resolve("conf/postern.yaml");

    // Nothing exists: the working tree's path, so the error names the usual place.
    assertEquals(local, ConfigLocation.resolve(null, null, cwd, system));
    Files.writeString(system, "");
    assertEquals(system, ConfigLocation.resolve(null, null, cwd, system), "a system install");
    assertEquals(system, ConfigLocation.resolve(null, " ", cwd, system), "a blank variable is not set");
    Files.createDirectories(local.getParent());
    Files.writeString(local, "");
    assertEquals(local, ConfigLocation.resolve(null, null, cwd, system), "the working tree wins over /etc");
    assertEquals(Path.of("/srv/mx/postern.yaml"), ConfigLocation.resolve(null, "/srv/mx/postern.yaml", cwd, system));
    assertEquals(Path.of("other.yaml"), ConfigLocation.resolve(Path.of("other.yaml"), "/srv/mx/postern.yaml", cwd, system));
  }
}
