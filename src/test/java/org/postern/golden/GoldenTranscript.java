package org.postern.golden;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The comparable form of one {@code -bh} run: the stdout replies, a {@code --- trace} line, then
 * the stderr lines that start with {@code >>>} (the ACL trace) and the ACL engine's log lines
 * (as {@code LOG: text}); other log lines and JVM noise are left out. Interleaving stdout and stderr in production order is not possible across two pipes, so the
 * two sections are kept apart.
 *
 * <p>Volatile parts are replaced by placeholders, each by one documented regex, so that a golden
 * file states policy and not the run's accidents.
 */
final class GoldenTranscript {
  static final String TRACE_MARK = "--- trace";
  /**
   * A log line of the ACL engine ({@code warn} with {@code log_message}): logback's
   * "date time LEVEL logger: text". Kept in the trace as {@code LOG: text}, as Exim's -bh shows its
   * log writes, since it is the only visible effect of a warn rule.
   */
  private static final Pattern ACL_LOG =
      Pattern.compile("\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2} [A-Z]+ +o\\.p\\.policy\\.AclEngine: (.*)");

  /** A volatile part and what it becomes. */
  private record Rule(Pattern pattern, String replacement) {
  }

  private static final List<Rule> RULES = List.of(
      // Message ids (Exim format, base 62: 6-6-4, e.g. 1xXP6J-M3pyod-0000).
      new Rule(Pattern.compile("\\b[0-9A-Za-z]{6}-[0-9A-Za-z]{6}-[0-9A-Za-z]{2,4}\\b"), "<ID>"),
      // RFC 5322 dates in banners and headers: "Sat, 28 Nov 2026 20:32:29 +0000".
      new Rule(Pattern.compile("\\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \\d{1,2} [A-Z][a-z]{2} \\d{4} \\d{2}:\\d{2}:\\d{2} [+-]\\d{4}"),
          "<DATE>"),
      // ISO timestamps: "2026-11-28 20:32:29" or "2026-11-28T20:32:29".
      new Rule(Pattern.compile("\\b\\d{4}-\\d{2}-\\d{2}[ T]\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?\\b"), "<DATE>"),
      // Client ports after a bracketed address: "[192.0.2.1]:40212".
      new Rule(Pattern.compile("(\\[[0-9A-Fa-f.:]+\\]):\\d+"), "$1:<PORT>"),
      // Temporary directories of the test and of -bh itself.
      new Rule(Pattern.compile("/tmp/postern-[A-Za-z0-9._-]+(/[^\\s\"')]*)?"), "<TMP>"),
      // Configuration generations (a hash of the files).
      new Rule(Pattern.compile("\\bgeneration [0-9A-Za-z]+"), "generation <GEN>"),
      // The local connection id, named after the child's pid.
      new Rule(Pattern.compile("\\blocal-\\d+\\b"), "local-<PID>"));

  private GoldenTranscript() {
  }

  /** The normalised transcript, one line per element, stdout section first. */
  static List<String> of(String stdout, String stderr) {
    List<String> out = new ArrayList<>();
    stdout.lines().map(GoldenTranscript::normalise).forEach(out::add);
    out.add(TRACE_MARK);
    for (String line : (Iterable<String>) stderr.lines()::iterator) {
      if (line.startsWith(">>>")) {
        out.add(normalise(line));
      } else {
        Matcher log = ACL_LOG.matcher(line);
        if (log.matches()) {
          out.add("LOG: " + normalise(log.group(1)));
        }
      }
    }
    return out;
  }

  static String normalise(String line) {
    String s = line;
    for (Rule r : RULES) {
      Matcher m = r.pattern().matcher(s);
      s = m.replaceAll(r.replacement());
    }
    return s;
  }
}
