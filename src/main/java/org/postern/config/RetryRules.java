package org.postern.config;

import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.ScalarNode;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The {@code retry} option: Exim's retry rules, searched in order, first match wins; plus
 * {@code retry_interval_max} (default and maximum 24h) and {@code retry_data_expire} (default 7d),
 * Exim's main options that bound every interval and the age of retry data.
 * <pre>
 * retry:
 *   - "*.example.org  *  F,1h,5m; F,1d,1h"
 *   - "*  *  F,2h,15m; G,16h,1h,1.5; F,4d,6h"
 * </pre>
 * Without the option, Exim's default rule applies; an empty list means no retries (as in Exim,
 * temporary errors are then treated as permanent).
 */
public final class RetryRules {
  /** Exim's default configuration's rule. */
  public static final String DEFAULT_RULE = "*  *  F,2h,15m; G,16h,1h,1.5; F,4d,6h";
  private static final Duration MAX_INTERVAL = Duration.ofHours(24);

  private final List<RetryRule> rules;
  private final Duration intervalMax;
  private final Duration dataExpire;

  private RetryRules(List<RetryRule> rules, Duration intervalMax, Duration dataExpire) {
    this.rules = List.copyOf(rules);
    this.intervalMax = intervalMax;
    this.dataExpire = dataExpire;
  }

  /** Exim's defaults: the default rule, 24h maximum interval, 7d data expiry. */
  public static RetryRules defaults() {
    return new RetryRules(List.of(RetryRule.parse(DEFAULT_RULE, MAX_INTERVAL, new Random())),
        MAX_INTERVAL, Duration.ofDays(7));
  }

  /** Reads {@code retry}, {@code retry_interval_max} and {@code retry_data_expire} from the main section. */
  public static RetryRules parse(YamlSection main) throws ConfigException {
    return parse(main, new Random());
  }

  /** As {@link #parse(YamlSection)}, with the source of randomness for H schedules (for tests). */
  public static RetryRules parse(YamlSection main, Random random) throws ConfigException {
    Duration intervalMax = main.duration("retry_interval_max", MAX_INTERVAL);
    if (intervalMax.isZero() || intervalMax.compareTo(MAX_INTERVAL) > 0) {
      throw main.error("retry_interval_max", "must be greater than zero and at most 24h");
    }
    Duration dataExpire = main.duration("retry_data_expire", Duration.ofDays(7));
    if (dataExpire.isZero()) {
      throw main.error("retry_data_expire", "must be greater than zero");
    }
    List<RetryRule> rules = new ArrayList<>();
    if (!main.has("retry")) {
      rules.add(RetryRule.parse(DEFAULT_RULE, intervalMax, random));
    } else if (main.isSequence("retry")) {
      for (Node item : main.sequence("retry")) {
        if (!(item instanceof ScalarNode s)) {
          throw new ConfigException(main.file(), YamlSection.line(item), "retry",
              "each rule is one string: \"<pattern> <error> <schedule>\"");
        }
        rules.add(rule(s.getValue(), intervalMax, random, main.file(), YamlSection.line(item)));
      }
    } else {
      String one = main.string("retry", null);
      if (one != null) {
        rules.add(rule(one, intervalMax, random, main.file(), main.line("retry")));
      }
    }
    return new RetryRules(rules, intervalMax, dataExpire);
  }

  private static RetryRule rule(String text, Duration intervalMax, Random random, String file, int line)
      throws ConfigException {
    try {
      return RetryRule.parse(text, intervalMax, random);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(file, line, "retry", e.getMessage());
    }
  }

  public List<RetryRule> rules() {
    return rules;
  }

  public Duration intervalMax() {
    return intervalMax;
  }

  /** Retry records not updated for this long are ignored and tidied away. */
  public Duration dataExpire() {
    return dataExpire;
  }

  /**
   * The first rule that applies, or null when none does (then, as in Exim, the failure is treated
   * as permanent).
   *
   * @param key a host name (not a retry database key), a domain or an address
   * @see RetryRule#matches
   */
  public RetryRule find(String key, String alternateDomain, RetryError failure, int replyCode) {
    for (RetryRule r : rules) {
      if (r.matches(key, alternateDomain, failure, replyCode)) {
        return r;
      }
    }
    return null;
  }
}
