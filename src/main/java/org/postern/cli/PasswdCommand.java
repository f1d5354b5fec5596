package org.postern.cli;

import org.postern.auth.PasswordSchemes;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedReader;
import java.io.Console;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code postern passwd [--scheme SCHEME]}: prints a {@code conf/passwd} secret for a password
 * read from the terminal (without echo) or from standard input, like {@code doveadm pw}. The
 * default, SCRAM-SHA-256, serves every mechanism the shipped authenticators advertise (PLAIN,
 * LOGIN and SCRAM-SHA-256): a bcrypt default made clients that pick SCRAM fail with the right
 * password (issue 11).
 */
@Command(name = "passwd", mixinStandardHelpOptions = true,
    description = "Print a conf/passwd secret ({SCHEME}...) for a password read from the terminal or stdin.")
final class PasswdCommand implements Callable<Integer> {
  @Option(names = {"-s", "--scheme"}, description = "SCRAM-SHA-256, BLF-CRYPT, ARGON2ID, SHA512-CRYPT, SHA256-CRYPT,"
      + " CRAM-MD5 or PLAIN (default: ${DEFAULT-VALUE}, which serves PLAIN, LOGIN and SCRAM-SHA-256)")
  String scheme = "SCRAM-SHA-256";

  @Option(names = {"-u", "--user"}, description = "print a whole passwd line for this user")
  String user;

  @Override
  public Integer call() throws Exception {
    String s = scheme.toUpperCase(Locale.ROOT);
    if (!PasswordSchemes.isSupported(s)) {
      System.err.println("postern passwd: unknown scheme " + scheme);
      return 2;
    }
    String password;
    Console console = System.console();
    if (console != null) {
      char[] first = console.readPassword("Password: ");
      char[] again = console.readPassword("Again: ");
      if (first == null || again == null || !java.util.Arrays.equals(first, again)) {
        System.err.println("postern passwd: the passwords differ");
        return 1;
      }
      password = new String(first);
    } else {
      password = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
    }
    if (password == null || password.isEmpty()) {
      System.err.println("postern passwd: empty password");
      return 1;
    }
    String secret;
    try {
      secret = PasswordSchemes.create(s, password);
    } catch (IllegalArgumentException e) {
      // The message never holds the password (PasswordSchemes' contract).
      System.err.println("postern passwd: " + e.getMessage());
      return 1;
    }
    System.out.println(user == null ? secret : user + ":" + secret);
    return 0;
  }
}
