package org.postern.log;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;

/**
 * The rotated copies of one log file beside it: {@code mainlog.2026-12-06} for the day that
 * ended, then {@code mainlog.2026-12-06.1}, {@code .2} ... for size cuts later that same day, so
 * names sort in the order the lines were written.
 */
final class RotatedLogs {
  private final Path file;
  private final String prefix;

  RotatedLogs(Path file) {
    this.file = file;
    this.prefix = file.getFileName() + ".";
  }

  /** Renames the log to the first free name for {@code day}; returns it. */
  Path rotate(LocalDate day) throws IOException {
    Path target = file.resolveSibling(prefix + day);
    for (int n = 1; Files.exists(target); n++) {
      target = file.resolveSibling(prefix + day + "." + n);
    }
    // A rename in one directory: the other processes that hold the file open keep writing whole
    // lines into it until they notice the new inode and reopen the name.
    Files.move(file, target, StandardCopyOption.ATOMIC_MOVE);
    return target;
  }

  /** Deletes the rotated copies of days before {@code today - keepDays}; returns what it deleted. */
  List<Path> prune(LocalDate today, int keepDays) throws IOException {
    LocalDate oldestKept = today.minusDays(keepDays);
    List<Path> deleted = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(file.toAbsolutePath().getParent(), prefix + "*")) {
      for (Path entry : entries) {
        LocalDate day = dayOf(entry.getFileName().toString());
        if (day != null && day.isBefore(oldestKept)) {
          Files.deleteIfExists(entry);
          deleted.add(entry);
        }
      }
    }
    return deleted;
  }

  /** The day in a rotated copy's name, or null for any other file that shares the prefix. */
  private LocalDate dayOf(String name) {
    String rest = name.substring(prefix.length());
    int dot = rest.indexOf('.');
    String date = dot < 0 ? rest : rest.substring(0, dot);
    if (dot >= 0 && !rest.substring(dot + 1).chars().allMatch(Character::isDigit)) {
      return null;
    }
    try {
      return LocalDate.parse(date);
    } catch (DateTimeParseException e) {
      return null;
    }
  }
}
