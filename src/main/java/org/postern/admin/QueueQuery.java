package org.postern.admin;

import io.vertx.core.MultiMap;
import org.postern.spool.Envelope;

import java.time.Instant;
import java.util.List;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * {@code GET /queue}'s filters, as exiqgrep's: {@code sender=REGEX} ({@code -f}),
 * {@code recipient=REGEX} ({@code -r}, any recipient still pending or not), {@code older=SECONDS}
 * ({@code -o}), {@code younger=SECONDS} ({@code -y}), {@code frozen=true} ({@code -z}) or
 * {@code frozen=false} ({@code -x}); regular expressions are searched for, case-insensitively, in
 * the address without angle brackets. Then the page: {@code offset} (0) and {@code limit} (50, at
 * most 1000) of the matching messages in queue order.
 */
record QueueQuery(Pattern sender, Pattern recipient, Long olderThan, Long youngerThan, Boolean frozen, int offset,
                  int limit) {
  static final int DEFAULT_LIMIT = 50;
  static final int MAX_LIMIT = 1000;

  /** The query of a request's parameters; {@link IllegalArgumentException} names the bad one. */
  static QueueQuery of(MultiMap params) {
    return new QueueQuery(pattern(params, "sender"), pattern(params, "recipient"), number(params, "older", null),
        number(params, "younger", null), frozen(params), (int) Math.min(Integer.MAX_VALUE, number(params, "offset", 0L)),
        (int) Math.min(MAX_LIMIT, number(params, "limit", (long) DEFAULT_LIMIT)));
  }

  Predicate<Envelope> filter(Instant now) {
    return e -> {
      long age = now.getEpochSecond() - e.receivedAt() / 1000;
      return (sender == null || sender.matcher(e.sender()).find())
          && (recipient == null || e.recipients().stream().anyMatch(r -> recipient.matcher(r.address()).find()))
          && (olderThan == null || age > olderThan)
          && (youngerThan == null || age < youngerThan)
          && (frozen == null || e.frozen() == frozen);
    };
  }

  /** This page of {@code matching}. */
  <T> List<T> page(List<T> matching) {
    int from = Math.min(offset, matching.size());
    return matching.subList(from, Math.min(matching.size(), from + limit));
  }

  private static Pattern pattern(MultiMap params, String name) {
    String value = params.get(name);
    if (value == null || value.isEmpty()) {
      return null;
    }
    try {
      return Pattern.compile(value, Pattern.CASE_INSENSITIVE);
    } catch (PatternSyntaxException e) {
      throw new IllegalArgumentException(name + ": not a regular expression: " + e.getDescription());
    }
  }

  private static Long number(MultiMap params, String name, Long absent) {
    String value = params.get(name);
    if (value == null || value.isEmpty()) {
      return absent;
    }
    try {
      long n = Long.parseLong(value);
      if (n < 0) {
        throw new NumberFormatException();
      }
      return name.equals("limit") && n == 0 ? absent : n;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + ": expected a number of 0 or more, got \"" + value + "\"");
    }
  }

  private static Boolean frozen(MultiMap params) {
    String value = params.get("frozen");
    if (value == null || value.isEmpty()) {
      return null;
    }
    return switch (value) {
      case "true" -> true;
      case "false" -> false;
      default -> throw new IllegalArgumentException("frozen: expected true or false, got \"" + value + "\"");
    };
  }
}
