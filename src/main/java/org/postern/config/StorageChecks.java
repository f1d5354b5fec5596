package org.postern.config;

/**
 * Exim's free-space thresholds, checked at MAIL before a message is accepted: below any of them
 * the client gets a 452 and retries later, instead of uploading a message the spool cannot hold.
 *
 * @param spoolSpace  {@code check_spool_space}, bytes that must stay free in the spool directory's
 *                    file system after the message (its {@code SIZE=} plus 5000 bytes of overhead,
 *                    as in Exim); 0 checks only the declared size
 * @param spoolInodes {@code check_spool_inodes}, free inodes required there
 * @param logSpace    {@code check_log_space}, bytes that must be free where the main log is written
 * @param logInodes   {@code check_log_inodes}, free inodes required there
 */
public record StorageChecks(long spoolSpace, long spoolInodes, long logSpace, long logInodes) {
  /** Exim's defaults since 4.93: 10M and 100 inodes for both. */
  static final long DEFAULT_SPACE = 10L * 1024 * 1024;
  static final long DEFAULT_INODES = 100;

  static StorageChecks parse(YamlSection main) throws ConfigException {
    return new StorageChecks(kilobytes(main, "check_spool_space"),
        main.integer("check_spool_inodes", (int) DEFAULT_INODES, 0, Integer.MAX_VALUE),
        kilobytes(main, "check_log_space"),
        main.integer("check_log_inodes", (int) DEFAULT_INODES, 0, Integer.MAX_VALUE));
  }

  /** Exim's type for these options counts a bare number in kilobytes ({@code 2048} = {@code 2M}). */
  private static long kilobytes(YamlSection main, String option) throws ConfigException {
    String raw = main.string(option, null);
    long value = main.size(option, DEFAULT_SPACE);
    if (raw != null && raw.strip().matches("\\d+")) {
      try {
        return Math.multiplyExact(value, 1024L);
      } catch (ArithmeticException e) {
        throw main.error(option, "size too large: \"" + raw + "\"");
      }
    }
    return value;
  }
}
