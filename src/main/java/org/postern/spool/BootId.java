package org.postern.spool;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Which boot of the kernel this process runs in ({@code /proc/sys/kernel/random/boot_id}, new at
 * every boot). A file written and read in the same boot is read from the page cache exactly as it
 * was written, whatever reached the disk: only a crash of the machine (power loss, kernel panic)
 * can tear a message, and after one the boot id differs. {@link EnvelopeSeal} records it so that a
 * reader checks the content only of messages written before the last boot. Null where the kernel
 * does not tell: then every reader checks.
 */
final class BootId {
  private static final String CURRENT = read(Path.of("/proc/sys/kernel/random/boot_id"));

  private BootId() {
  }

  /** This boot's id, or null when unknown. */
  static String current() {
    return CURRENT;
  }

  private static String read(Path file) {
    try {
      String id = Files.readString(file, StandardCharsets.US_ASCII).strip();
      return id.isEmpty() ? null : id;
    } catch (IOException | RuntimeException unavailable) {
      return null;
    }
  }
}
