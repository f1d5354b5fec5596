package org.postern.plugins;

import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

/**
 * One version of one jar of {@code plugin_directory}, in a class loader of its own whose parent is
 * the application class loader: a plugin sees Vert.x and Postern's bus records (its SPI) but not
 * another plugin's classes, and a new version of the jar gets a new loader, so its classes are new.
 * The jar is copied first: a loader reads its jar lazily, and the operator may overwrite the file
 * while the old version still runs.
 */
final class PluginJar implements AutoCloseable {
  private final Path source;
  private final String version;
  private final Path copy;
  private final URLClassLoader loader;
  private final Set<String> classes;

  private PluginJar(Path source, String version, Path copy, URLClassLoader loader, Set<String> classes) {
    this.source = source;
    this.version = version;
    this.copy = copy;
    this.loader = loader;
    this.classes = classes;
  }

  /**
   * Opens {@code jar} (blocking: file copies and reads). {@code version} identifies its content
   * ({@link #versionOf}); the copy goes under {@code work}.
   *
   * @throws IOException when the jar cannot be read (for instance while it is still being written)
   */
  static PluginJar open(Path jar, String version, Path work) throws IOException {
    Path copy = Files.createTempFile(work, jar.getFileName().toString() + "-", ".jar");
    try {
      copy.toFile().deleteOnExit();
      Files.copy(jar, copy, StandardCopyOption.REPLACE_EXISTING);
      Set<String> classes = new TreeSet<>();
      try (JarFile file = new JarFile(copy.toFile())) {
        for (JarEntry e : java.util.Collections.list(file.entries())) {
          String n = e.getName();
          if (n.endsWith(".class") && !n.contains("$") && !n.startsWith("META-INF/")) {
            classes.add(n.substring(0, n.length() - ".class".length()).replace('/', '.'));
          }
        }
      }
      URLClassLoader loader = new URLClassLoader("plugin " + jar.getFileName(), new URL[] {copy.toUri().toURL()},
          PluginJar.class.getClassLoader());
      return new PluginJar(jar, version, copy, loader, Set.copyOf(classes));
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(copy);
      throw e instanceof IOException io ? io : new IOException(e.getMessage(), e);
    }
  }

  /** What identifies a jar's content without reading it: size and modification time (blocking). */
  static String versionOf(Path jar) throws IOException {
    BasicFileAttributes a = Files.readAttributes(jar, BasicFileAttributes.class);
    return a.size() + "@" + a.lastModifiedTime().toMillis();
  }

  Path source() {
    return source;
  }

  String version() {
    return version;
  }

  ClassLoader loader() {
    return loader;
  }

  boolean holds(String className) {
    return classes.contains(className);
  }

  /** Closes the loader and deletes the copy, once none of its verticles runs (blocking). */
  @Override
  public void close() throws IOException {
    loader.close();
    Files.deleteIfExists(copy);
  }
}
