package org.postern.config;

import org.postern.bus.ConfigGeneration;
import org.postern.bus.ConfigGeneration.Role;
import org.postern.spool.DirectorySync;
import org.postern.spool.DurableFile;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A configuration as a {@link ConfigGeneration} (the replicated files and their SHA-256), and back:
 * validated against this node's node.yaml, then written into its conf/ so that a restart comes up
 * on it. Blocking: call from a worker.
 */
public final class GenerationFiles {
  private static final Role[] MAIN_ROLES = {Role.MAIN, Role.ACL, Role.PASSWD, Role.ALIASES};

  private GenerationFiles() {
  }

  /** The generation {@code config} was parsed from, as node {@code origin} proposes it after {@code parent}. */
  public static ConfigGeneration of(PosternConfig config, String parent, String origin) {
    List<ConfigGeneration.File> files = new ArrayList<>();
    int i = 0;
    for (Map.Entry<Path, String> f : config.sources().entrySet()) {
      files.add(new ConfigGeneration.File(MAIN_ROLES[i++], f.getKey().getFileName().toString(), sha256(f.getValue()),
          f.getValue()));
    }
    config.listFiles().forEach((path, text) -> files.add(new ConfigGeneration.File(Role.LIST, path.toString(),
        sha256(text), text)));
    return new ConfigGeneration(config.generation(), parent, 0, origin, files);
  }

  /**
   * Validates {@code generation} as this node would run it: its files in place of the local ones,
   * with this node's {@code nodeSettings} (node.yaml's text). Refuses a generation whose files do
   * not match their SHA-256, or whose id is not what its files hash to.
   */
  public static PosternConfig parse(Path configFile, ConfigGeneration generation, String nodeSettings)
      throws ConfigException {
    Map<Path, String> texts = new LinkedHashMap<>();
    Map<Path, String> lists = new LinkedHashMap<>();
    List<Path> local = ConfigLoader.files(configFile);
    for (ConfigGeneration.File f : generation.files()) {
      if (!sha256(f.text()).equals(f.sha256())) {
        throw new ConfigException(f.path(), 0, null, "generation " + generation.id() + ": SHA-256 mismatch");
      }
      if (f.role() == Role.LIST) {
        lists.put(Path.of(f.path()), f.text());
      } else {
        texts.put(local.get(f.role().ordinal()), f.text());
      }
    }
    texts.put(ConfigLoader.nodeFile(configFile), nodeSettings);
    PosternConfig config = ConfigLoader.parse(configFile, texts, lists);
    if (!config.generation().equals(generation.id())) {
      throw new ConfigException(ConfigLoader.display(configFile), 0, null, "generation " + generation.id()
          + " hashes to " + config.generation() + " here: its files are not what it says");
    }
    return config;
  }

  /**
   * Writes every file of {@code generation} that differs from what is on disk: each to a temporary
   * file beside it (written and fsynced), then renamed over the old one, then the directories are
   * fsynced, so a crash leaves each file old or new, never half written.
   */
  public static void write(Path configFile, ConfigGeneration generation) throws IOException {
    List<Path> local = ConfigLoader.files(configFile);
    Map<Path, Path> renames = new LinkedHashMap<>();
    try {
      for (ConfigGeneration.File f : generation.files()) {
        Path target = f.role() == Role.LIST ? Path.of(f.path()) : local.get(f.role().ordinal());
        if (f.text().equals(readOrNull(target))) {
          continue;
        }
        Path temp = target.resolveSibling("." + target.getFileName() + ".new-" + generation.id());
        DurableFile.write(temp, f.text().getBytes(StandardCharsets.UTF_8), false);
        renames.put(temp, target);
      }
      Set<Path> directories = new LinkedHashSet<>();
      for (Map.Entry<Path, Path> r : renames.entrySet()) {
        Files.move(r.getKey(), r.getValue(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        directories.add(r.getValue().toAbsolutePath().getParent());
      }
      renames.clear();
      for (Path dir : directories) {
        DirectorySync.force(dir);
      }
    } finally {
      for (Path temp : renames.keySet()) {
        Files.deleteIfExists(temp);
      }
    }
  }

  private static String readOrNull(Path file) throws IOException {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      return null;
    }
  }

  static String sha256(String text) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
