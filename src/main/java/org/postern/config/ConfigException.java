package org.postern.config;

/**
 * A configuration file was refused. The message names the file, the line and the option, so an
 * administrator can go straight to the mistake: {@code conf/postern.yaml:12: message_size_limit: not a size: "50X"}.
 */
public final class ConfigException extends Exception {
  private final String file;
  private final int line;
  private final String option;

  public ConfigException(String file, int line, String option, String reason) {
    super(file + (line > 0 ? ":" + line : "") + ": " + (option == null ? "" : option + ": ") + reason);
    this.file = file;
    this.line = line;
    this.option = option;
  }

  public String file() {
    return file;
  }

  /** 1-based line, or 0 when the problem is not tied to one line (e.g. an unreadable file). */
  public int line() {
    return line;
  }

  public String option() {
    return option;
  }
}
