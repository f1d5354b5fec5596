package org.postern.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A real file system that fills up: a small tmpfs mounted over a test's directory (root only), and
 * a filler file written until the kernel says ENOSPC. For the tests of what Postern does when a
 * write fails for want of space, without a mock of the file system.
 */
public final class TinyFileSystem {
  private TinyFileSystem() {
  }

  /** Mounts a tmpfs of {@code size} (mount's syntax, e.g. {@code 64k}) on {@code directory}; false when this process may not. */
  public static boolean mount(Path directory, String size) throws Exception {
    return run("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", directory.toString());
  }

  public static void unmount(Path directory) throws Exception {
    run("umount", directory.toString());
  }

  /** Writes {@code filler} until its file system has no byte left. */
  public static void fill(Path filler) {
    byte[] block = new byte[1024];
    try (OutputStream out = Files.newOutputStream(filler)) {
      while (true) {
        out.write(block);
        out.flush();
      }
    } catch (IOException full) {
      // ENOSPC: full, as wanted. Closing flushed nothing more.
    }
  }

  private static boolean run(String... command) throws Exception {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    }
  }
}
