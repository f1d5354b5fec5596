package org.postern.golden;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.opentest4j.TestAbortedException;
import org.postern.testing.ChildPostern;
import org.postern.testing.ChildPostern.Result;
import org.postern.testing.PosternTestServer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Exim-style golden tests of {@code postern -bh}: every {@code golden/bh/NAME.in} (see
 * {@link GoldenCase}) is run in a child JVM against the test configuration (the shipped acl.yaml
 * unless the case names another) and its normalised transcript ({@link GoldenTranscript}) must equal
 * {@code NAME.out} line for line.
 *
 * <p>{@code mvn -o test -Dtest=GoldenHostCheckTest -Dgolden.update=true} (re)writes the
 * {@code .out} files instead of comparing; a new case's output must then be read and judged
 * against Exim before it is committed. Cases named in {@code golden/bh/KNOWN-BUGS} hold the right
 * output for a behaviour that is still wrong: they are reported as aborted while they differ, and
 * fail once they match, so the note gets updated when the bug is fixed.
 */
class GoldenHostCheckTest {
  private static final Path GOLDEN = Path.of("src", "test", "resources", "golden");
  private static final Path CASES = GOLDEN.resolve("bh");
  private static final Path ACLS = GOLDEN.resolve("acl");
  private static final List<String> STAGE_OPTIONS = List.of("acl_smtp_rcpt", "acl_smtp_expn", "acl_smtp_etrn");
  private static final boolean UPDATE = Boolean.getBoolean("golden.update");

  @TestFactory
  Stream<DynamicTest> everyCase() throws IOException {
    Set<String> knownBugs = knownBugs();
    List<Path> inputs;
    try (Stream<Path> files = Files.list(CASES)) {
      inputs = files.filter(p -> p.getFileName().toString().endsWith(".in")).sorted().toList();
    }
    assertTrue(inputs.size() >= 15, "expected at least 15 golden cases in " + CASES + ", found " + inputs.size());
    return inputs.stream().map(in -> DynamicTest.dynamicTest(name(in),
        () -> check(GoldenCase.read(in, ACLS), knownBugs)));
  }

  private static String name(Path in) {
    String f = in.getFileName().toString();
    return f.substring(0, f.length() - 3);
  }

  /** Case names listed in KNOWN-BUGS: the first word of each line not starting with '#'. */
  private static Set<String> knownBugs() throws IOException {
    Path note = CASES.resolve("KNOWN-BUGS");
    if (!Files.exists(note)) {
      return Set.of();
    }
    return Files.readAllLines(note).stream().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#"))
        .map(l -> l.split("\\s+")[0]).collect(Collectors.toSet());
  }

  private static void check(GoldenCase c, Set<String> knownBugs) throws Exception {
    List<String> actual = run(c);
    Path out = CASES.resolve(c.name() + ".out");
    if (UPDATE && !knownBugs.contains(c.name())) {
      Files.writeString(out, String.join("\n", actual) + "\n", StandardCharsets.UTF_8);
      return;
    }
    if (!Files.exists(out)) {
      fail(out + " is missing; create it with -Dgolden.update=true and check it by eye. Actual:\n"
          + String.join("\n", actual));
    }
    List<String> expected = Files.readAllLines(out, StandardCharsets.UTF_8);
    boolean same = expected.equals(actual);
    if (knownBugs.contains(c.name())) {
      if (same) {
        fail(c.name() + " now matches its golden output: the bug is fixed, remove it from KNOWN-BUGS");
      }
      throw new TestAbortedException("known bug, see KNOWN-BUGS:\n" + LineDiff.render(expected, actual));
    }
    if (!same) {
      fail(c.name() + ": -bh transcript differs from " + out + "\n" + LineDiff.render(expected, actual));
    }
  }

  /** Runs the case's session through {@code -bh} in a fresh configuration directory. */
  private static List<String> run(GoldenCase c) throws Exception {
    try (PosternTestServer server = PosternTestServer.create()) {
      if (c.acl() != null) {
        server.acl(Files.readString(c.acl(), StandardCharsets.UTF_8));
        // The test server binds the shipped ACL names to their stages; a case's own file has its own.
        STAGE_OPTIONS.forEach(server::withoutOption);
      }
      c.options().forEach(server::option);
      Path config = server.writeConfig();
      Result r = ChildPostern.run(server.root(), config, c.input(), "-bh", c.address());
      assertEquals(0, r.exit(), () -> c.name() + ": " + r);
      return GoldenTranscript.of(r.stdout(), r.stderr());
    }
  }
}
