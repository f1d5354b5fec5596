package org.postern.spool;

import com.sun.jna.Platform;
import com.sun.jna.platform.linux.LibC;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * What is left on the file system holding a directory, as Exim's {@code check_spool_space} reads
 * it: the bytes and inodes an unprivileged process may still use ({@code f_bavail * f_frsize},
 * {@code f_favail} of statvfs(2)). Either is -1 when unknown: a directory that does not exist yet
 * (Exim: the first run after installation), a file system without inodes, or a platform without
 * statvfs through JNA, where only the JDK's usable space is known.
 *
 * @param freeBytes  bytes available, or -1
 * @param freeInodes inodes available, or -1
 */
public record FileSystemSpace(long freeBytes, long freeInodes) {
  private static final FileSystemSpace UNKNOWN = new FileSystemSpace(-1, -1);

  /** Reads the file system of {@code directory}. Blocking (a system call, slow on a stuck NFS server). */
  public static FileSystemSpace of(Path directory) throws IOException {
    if (!Files.exists(directory)) {
      return UNKNOWN;
    }
    if (Platform.isLinux()) {
      LibC.Statvfs stats = new LibC.Statvfs();
      if (LibC.INSTANCE.statvfs(directory.toString(), stats) == 0) {
        long inodes = stats.f_files.longValue() > 0 ? stats.f_favail.longValue() : -1;
        return new FileSystemSpace(stats.f_bavail.longValue() * stats.f_frsize.longValue(), inodes);
      }
    }
    try {
      return new FileSystemSpace(Files.getFileStore(directory).getUsableSpace(), -1);
    } catch (NoSuchFileException e) {
      return UNKNOWN;
    }
  }
}
