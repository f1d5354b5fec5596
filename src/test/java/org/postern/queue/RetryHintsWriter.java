package org.postern.queue;

import org.postern.config.RetryError;
import org.postern.config.RetryRule;
import org.postern.config.RetryRules;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Random;

/**
 * A second process for the shared retry hints: {@code RetryHintsWriter <spool> <name> <count>}
 * records {@code count} failures of the host {@link #SHARED} and of {@code count} addresses of its
 * own ({@code R:<name>-<n>@example.org}), then prints the time of its first failure (ISO-8601).
 * Exit 0 when every write worked.
 */
public final class RetryHintsWriter {
  /** The host key every writer fails. */
  static final String SHARED = "T:shared.example.org:192.0.2.9";

  private RetryHintsWriter() {
  }

  public static void main(String[] args) throws Exception {
    RetryRule rule = RetryRule.parse(RetryRules.DEFAULT_RULE, Duration.ofHours(24), new Random());
    RetryDatabase db = new RetryDatabase(Path.of(args[0]), Duration.ofDays(7));
    db.load();
    int count = Integer.parseInt(args[2]);
    Instant first = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS); // records keep milliseconds
    for (int i = 0; i < count; i++) {
      Instant now = i == 0 ? first : Instant.now();
      db.recordFailure(SHARED, RetryError.REFUSED, "Connection refused", now, rule);
      db.recordFailure(RetryDatabase.addressKey(args[1] + "-" + i + "@example.org"), RetryError.OTHER, "451 later",
          now, rule);
    }
    System.out.println(first);
    System.exit(0);
  }
}
