package org.postern.cli;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.postern.testing.ChildPostern;
import org.postern.testing.ChildPostern.Result;
import org.postern.testing.PosternTestServer;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code -bP} in a child process, its output parsed back into options. */
class OptionPrinterTest {
  private static final String SECRET = "s3cret-pass";
  private PosternTestServer files;
  private Path config;

  @BeforeEach
  void setUp() throws Exception {
    files = PosternTestServer.create().option("message_size_limit", "10K")
        .option("transports", "{ remote_smtp: { driver: smtp, port: 2526 } }")
        .option("authenticators", "{ relay: { driver: plaintext, public_name: PLAIN, client_send: \"^user^" + SECRET
            + "\" } }");
    config = files.writeConfig();
  }

  @AfterEach
  void tearDown() throws Exception {
    files.close();
  }

  private Result bP(String... names) throws Exception {
    String[] args = new String[names.length + 1];
    args[0] = "-bP";
    System.arraycopy(names, 0, args, 1, names.length);
    return ChildPostern.run(files.root(), config, "", args);
  }

  private static Map<String, String> parsed(String stdout) {
    Map<String, String> options = new LinkedHashMap<>();
    for (String line : stdout.lines().toList()) {
      int eq = line.indexOf(" = ");
      assertTrue(eq > 0 || line.endsWith(" ="), "not a name = value line: " + line);
      options.put(line.substring(0, eq > 0 ? eq : line.length() - 2), eq > 0 ? line.substring(eq + 3) : "");
    }
    return options;
  }

  @Test
  void everyOptionWithItsValueInForceAndNoSecret() throws Exception {
    Result all = bP();
    assertEquals(0, all.exit(), all::toString);
    assertFalse(all.stdout().contains(SECRET), "a secret was printed:\n" + all.stdout());
    Map<String, String> options = parsed(all.stdout());
    assertEquals("10K", options.get("message_size_limit"), "as given");
    assertEquals("5m", options.get("smtp_receive_timeout"), "a default, as Exim writes times");
    assertEquals("2526", options.get("transports.remote_smtp.port"));
    assertEquals(OptionPrinter.HIDDEN, options.get("authenticators.relay.client_send"));
    assertEquals(files.root().resolve("spool").toAbsolutePath().normalize().toString(), options.get("spool_directory"),
        "directories resolved against the configuration file");
    assertTrue(options.size() > 50, "all options: " + options.size());
  }

  @Test
  void namedOptionsSectionsAndTheGeneration() throws Exception {
    Result some = bP("message_size_limit", "transport", "remote_smtp", "config_generation");
    assertEquals(0, some.exit(), some::toString);
    Map<String, String> options = parsed(some.stdout());
    assertEquals("10K", options.remove("message_size_limit"));
    String generation = options.remove("config_generation");
    assertTrue(options.keySet().stream().allMatch(k -> k.startsWith("transports.remote_smtp.")), options.toString());
    assertEquals("smtp", options.get("transports.remote_smtp.driver"));
    Result version = ChildPostern.run(files.root(), config, "", "-bV");
    assertTrue(version.stdout().contains("(generation " + generation + "): OK"), version + "\nvs " + generation);

    Result unknown = bP("message_size_limit", "no_such_option");
    assertEquals(1, unknown.exit(), unknown::toString);
    assertEquals("message_size_limit = 10K\n", unknown.stdout());
    assertEquals("postern: unknown option \"no_such_option\"\n", unknown.stderr());
  }
}
