package org.postern.testing;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;

/**
 * Plugin jars made at test time: Java sources compiled with {@code javax.tools} against this JVM's
 * class path (the built classes and Vert.x), packed into a jar as a plugin author ships one.
 */
public final class PluginJars {
  private PluginJars() {
  }

  /**
   * Compiles {@code sources} (simple class name to source text, all in {@code packageName}) and
   * writes the classes to {@code jar}, written beside it and renamed over it: a watcher never sees
   * half a jar.
   */
  public static Path write(Path jar, String packageName, Map<String, String> sources) throws IOException {
    Path work = Files.createTempDirectory("plugin-src");
    Path src = Files.createDirectories(work.resolve("src").resolve(packageName.replace('.', '/')));
    Path classes = Files.createDirectories(work.resolve("classes"));
    List<String> args = new ArrayList<>(List.of("-d", classes.toString(), "-classpath",
        System.getProperty("java.class.path"), "--release", "17", "-proc:none"));
    for (Map.Entry<String, String> e : sources.entrySet()) {
      Path file = src.resolve(e.getKey() + ".java");
      Files.writeString(file, e.getValue(), StandardCharsets.UTF_8);
      args.add(file.toString());
    }
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    ByteArrayOutputStream errors = new ByteArrayOutputStream();
    if (javac.run(null, errors, errors, args.toArray(String[]::new)) != 0) {
      throw new IllegalStateException("plugin sources do not compile:\n" + errors.toString(StandardCharsets.UTF_8));
    }
    Path tmp = jar.resolveSibling(jar.getFileName() + ".part");
    try (OutputStream out = Files.newOutputStream(tmp); JarOutputStream j = new JarOutputStream(out);
         var files = Files.walk(classes)) {
      for (Path p : (Iterable<Path>) files.filter(Files::isRegularFile).sorted()::iterator) {
        j.putNextEntry(new JarEntry(classes.relativize(p).toString().replace('\\', '/')));
        j.write(Files.readAllBytes(p));
        j.closeEntry();
      }
    }
    Files.move(tmp, jar, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    return jar;
  }
}
