package org.postern.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Which main configuration file a command reads: {@code -C FILE}, else {@code $POSTERN_CONFIG},
 * else {@code conf/postern.yaml} below the working directory (the repository and an unpacked
 * tree), else {@code /etc/postern/postern.yaml} (a system install). The data paths inside it are
 * relative to the file's directory, so each layout keeps its own.
 */
final class ConfigLocation {
  static final Path WORKING_TREE = Path.of("conf/postern.yaml");
  static final Path SYSTEM = Path.of("/etc/postern/postern.yaml");

  private ConfigLocation() {
  }

  static Path resolve(Path option, String environment, Path workingDirectory, Path system) {
    if (option != null) {
      return option;
    }
    if (environment != null && !environment.isBlank()) {
      return Path.of(environment);
    }
    Path local = workingDirectory.resolve(WORKING_TREE);
    if (Files.isRegularFile(local) || !Files.isRegularFile(system)) {
      // The working tree's path also when neither exists: the error then names the usual place.
      return workingDirectory.equals(Path.of("")) ? WORKING_TREE : local;
    }
    return system;
  }
}
