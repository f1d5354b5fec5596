package org.postern.policy;

import org.postern.expand.EximTime;
import org.postern.expand.Expansion;

import org.postern.expand.VariableNames;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One parsed {@code ratelimit} condition: {@code limit / period / options... / key}. Immutable;
 * every malformed spec is refused here, at load time, with a message saying what is wrong.
 *
 * @param limit the rate above which the condition is true (a K/M/G suffix multiplies by 1024^n)
 * @param limitText the limit as written, for {@code $sender_rate_limit}
 * @param periodMillis the sliding window's length
 * @param periodText the period as written, for {@code $sender_rate_period}
 * @param unit what one evaluation counts
 * @param strict count refused events too (Exim's {@code strict}) instead of leaving them out ({@code leaky})
 * @param readonly only measure, never count ({@code noupdate}/{@code readonly})
 * @param key the expansion naming whose rate this is
 * @param source the spec as written, for traces
 */
record RatelimitSpec(double limit, String limitText, long periodMillis, String periodText, Unit unit,
                     boolean strict, boolean readonly, Expansion key, String source) {

  /** What an evaluation adds to the rate. */
  enum Unit {
    /** The first evaluation per SMTP connection counts 1, later ones in the same connection 0. */
    PER_CONN,
    /** The first evaluation per MAIL transaction counts 1. */
    PER_MAIL,
    /** Every evaluation counts 1; the name says it sits in the RCPT ACL. */
    PER_RCPT,
    /** Every evaluation counts 1. */
    PER_CMD,
    /** Every evaluation counts {@code $message_size} bytes (0 while the size is not known). */
    PER_BYTE;

    String word() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** Unit used when the spec names none. */
  static final Unit DEFAULT_UNIT = Unit.PER_CMD;
  /** The key when the spec gives none: each client host has its own rate. */
  static final String DEFAULT_KEY = "$sender_host_address";

  private static final Pattern LIMIT = Pattern.compile("(\\d+(?:\\.\\d+)?|\\.\\d+)([kKmMgG]?)");
  private static final List<String> UNSUPPORTED = List.of("per_addr", "unique", "count");

  static RatelimitSpec parse(String spec) {
    List<String> items = split(spec);
    String shape = " (write \"limit / period / options / key\", e.g. \"100 / 1h\")";
    if (items.get(0).isEmpty()) {
      throw new IllegalArgumentException("ratelimit \"" + spec + "\": missing limit" + shape);
    }
    if (items.size() < 2 || items.get(1).isEmpty()) {
      throw new IllegalArgumentException("ratelimit \"" + spec + "\": missing period" + shape);
    }
    String limitText = items.get(0);
    String periodText = items.get(1);
    Unit unit = null;
    Boolean strict = null;
    boolean readonly = false;
    String keyText = null;
    for (int i = 2; i < items.size(); i++) {
      String item = items.get(i);
      boolean last = i == items.size() - 1;
      String word = item.toLowerCase(Locale.ROOT);
      if (item.isEmpty()) {
        throw new IllegalArgumentException("ratelimit \"" + spec + "\": empty " + (last ? "key" : "option")
            + " between slashes");
      }
      Unit named = unit(word);
      if (named != null) {
        if (unit != null) {
          throw new IllegalArgumentException("ratelimit \"" + spec + "\": " + unit.word() + " and " + word
              + " both given; use one of per_conn, per_mail, per_rcpt, per_cmd, per_byte");
        }
        unit = named;
      } else if (word.equals("strict") || word.equals("leaky")) {
        if (strict != null) {
          throw new IllegalArgumentException("ratelimit \"" + spec + "\": give one of strict and leaky, once");
        }
        strict = word.equals("strict");
      } else if (word.equals("noupdate") || word.equals("readonly")) {
        readonly = true;
      } else if (UNSUPPORTED.stream().anyMatch(u -> word.equals(u) || word.startsWith(u + "="))) {
        throw new IllegalArgumentException("ratelimit \"" + spec + "\": option \"" + item + "\" is not supported");
      } else if (last && !word.matches("per_[a-z_]*")) {
        keyText = item;
      } else {
        throw new IllegalArgumentException("ratelimit \"" + spec + "\": unknown option \"" + item
            + "\" (options: per_conn, per_mail, per_rcpt, per_cmd, per_byte, strict, leaky, noupdate, readonly)");
      }
    }
    Unit effective = unit == null ? DEFAULT_UNIT : unit;
    double limit = limit(spec, limitText, effective);
    long period = period(spec, periodText);
    Expansion key;
    try {
      key = Expansion.parse(keyText == null ? DEFAULT_KEY : keyText, VariableNames::isKnown);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("ratelimit \"" + spec + "\": key: " + e.getMessage(), e);
    }
    return new RatelimitSpec(limit, limitText, period, periodText, effective, Boolean.TRUE.equals(strict), readonly,
        key, spec.strip());
  }

  private static Unit unit(String word) {
    for (Unit u : Unit.values()) {
      if (u.word().equals(word)) {
        return u;
      }
    }
    return null;
  }

  private static double limit(String spec, String text, Unit unit) {
    Matcher m = LIMIT.matcher(text);
    if (!m.matches()) {
      throw new IllegalArgumentException("ratelimit \"" + spec + "\": limit \"" + text
          + "\" is not a non-negative number");
    }
    double value = Double.parseDouble(m.group(1));
    if (!m.group(2).isEmpty()) {
      if (unit != Unit.PER_BYTE) {
        throw new IllegalArgumentException("ratelimit \"" + spec + "\": a K, M or G suffix on the limit needs per_byte");
      }
      value *= switch (m.group(2).toLowerCase(Locale.ROOT)) {
        case "k" -> 1024d;
        case "m" -> 1024d * 1024;
        default -> 1024d * 1024 * 1024;
      };
    }
    if (Double.isInfinite(value)) {
      throw new IllegalArgumentException("ratelimit \"" + spec + "\": limit \"" + text + "\" is too large");
    }
    return value;
  }

  /** Exim's time syntax ({@link EximTime}): {@code 30s}, {@code 5m}, {@code 1h30m}, {@code 2d}, {@code 1w}, or bare seconds. */
  private static long period(String spec, String text) {
    long millis;
    try {
      millis = EximTime.parse(text).toMillis();
    } catch (IllegalArgumentException | ArithmeticException e) {
      boolean tooLarge = e instanceof ArithmeticException || String.valueOf(e.getMessage()).startsWith("time too large");
      throw new IllegalArgumentException("ratelimit \"" + spec + "\": period \"" + text + "\" "
          + (tooLarge ? "is too long" : "is not a time (e.g. 30s, 5m, 1h, 1h30m, 1d, 1w)"), e);
    }
    if (millis <= 0) {
      throw new IllegalArgumentException("ratelimit \"" + spec + "\": period must be longer than zero");
    }
    // Entries live two periods; keep that (and bucket arithmetic) far from overflow.
    if (millis > 3_650L * 86_400_000L) {
      throw new IllegalArgumentException("ratelimit \"" + spec + "\": period \"" + text + "\" is too long (at most 3650d)");
    }
    return millis;
  }

  /** Splits on "/" outside {@code ${...}}, so that a key expansion may contain a slash. */
  private static List<String> split(String spec) {
    List<String> items = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    int depth = 0;
    for (int i = 0; i < spec.length(); i++) {
      char c = spec.charAt(i);
      if (c == '\\' && i + 1 < spec.length()) {
        current.append(c).append(spec.charAt(++i));
        continue;
      }
      if (c == '{') {
        depth++;
      } else if (c == '}' && depth > 0) {
        depth--;
      } else if (c == '/' && depth == 0) {
        items.add(current.toString().strip());
        current.setLength(0);
        continue;
      }
      current.append(c);
    }
    items.add(current.toString().strip());
    return items;
  }

  /**
   * Where the counter lives in the shared map: what is counted, the window and the expanded key,
   * as Exim keys its database ({@code per_rcpt/3600s/192.0.2.1}). The limit and strict/leaky are
   * not part of it, so rules with different limits on the same thing share one count.
   */
  String storeKey(String expandedKey) {
    return unit.word() + "/" + periodMillis + "ms/" + expandedKey;
  }
}
