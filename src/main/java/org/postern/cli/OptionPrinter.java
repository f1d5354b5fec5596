package org.postern.cli;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code -bP}, as Exim's: the value in force of every option of {@code postern.yaml} (given or
 * default), one {@code name = value} line each; with names, only those. Options of sections are
 * named by their path ({@code transports.remote_smtp.port}); a section's name prints all of its
 * options, and Exim's {@code transport NAME}, {@code router NAME} and {@code authenticator NAME}
 * work too. Secrets (client passwords, {@code client_send}) print as Exim's hidden options do.
 * {@code config_generation} and {@code config_file} are the generation hash and the file read.
 */
final class OptionPrinter {
  static final String HIDDEN = "<value not displayable>";

  private final Map<String, String> options;
  private final String generation;
  private final String configFile;

  OptionPrinter(Map<String, String> options, String generation, String configFile) {
    this.options = options;
    this.generation = generation;
    this.configFile = configFile;
  }

  /** Prints the options asked for (all when none); returns 1 when a name is not an option, as Exim does. */
  int print(List<String> names, PrintStream out, PrintStream err) {
    if (names.isEmpty()) {
      options.forEach((name, value) -> line(out, name, value));
      return 0;
    }
    int status = 0;
    for (int i = 0; i < names.size(); i++) {
      String name = names.get(i);
      String section = switch (name) {
        case "transport" -> "transports";
        case "router" -> "routers";
        case "authenticator" -> "authenticators";
        default -> null;
      };
      if (section != null && i + 1 < names.size()) {
        name = section + "." + names.get(++i);
      }
      if (name.equals("config_generation")) {
        out.println("config_generation = " + generation);
      } else if (name.equals("config_file")) {
        out.println("config_file = " + configFile);
      } else if (options.containsKey(name)) {
        line(out, name, options.get(name));
      } else if (!printSection(name, out)) {
        err.println("postern: unknown option \"" + name + "\"");
        status = 1;
      }
    }
    return status;
  }

  private boolean printSection(String prefix, PrintStream out) {
    boolean found = false;
    for (Map.Entry<String, String> e : options.entrySet()) {
      if (e.getKey().startsWith(prefix + ".")) {
        line(out, e.getKey(), e.getValue());
        found = true;
      }
    }
    return found;
  }

  private static void line(PrintStream out, String name, String value) {
    out.println(name + " = " + (isSecret(name) && !value.isEmpty() ? HIDDEN : value));
  }

  /** Options that hold a credential: never printed. */
  static boolean isSecret(String qualifiedName) {
    String name = qualifiedName.substring(qualifiedName.lastIndexOf('.') + 1).toLowerCase(Locale.ROOT);
    return name.equals("client_send") || name.contains("password") || name.contains("secret");
  }
}
