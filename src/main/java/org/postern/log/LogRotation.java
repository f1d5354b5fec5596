package org.postern.log;

/**
 * How the daemon cuts its log files ({@code mainlog}, {@code rejectlog}): at local midnight and,
 * with {@code maxBytes > 0}, before a line would take a file past that size; rotated files older
 * than {@code keepDays} are deleted. {@code keepDays == 0} turns the built-in rotation off (for an
 * external logrotate, which signals the reopen with SIGUSR1).
 *
 * @param maxBytes {@code log_rotate_size}, 0 for no size limit
 * @param keepDays {@code log_keep_days}, 0 for no built-in rotation
 */
public record LogRotation(long maxBytes, int keepDays) {
  /** What every process but the daemon uses: it appends and never renames a log file. */
  public static final LogRotation OFF = new LogRotation(0, 0);

  public LogRotation {
    if (maxBytes < 0 || keepDays < 0) {
      throw new IllegalArgumentException("log rotation: negative size or days");
    }
  }

  public boolean enabled() {
    return keepDays > 0;
  }
}
