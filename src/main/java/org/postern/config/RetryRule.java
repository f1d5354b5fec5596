package org.postern.config;

import java.time.Duration;
import java.util.Locale;
import java.util.Random;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * One Exim retry rule, {@code pattern  error  schedule}, e.g. {@code *.example.org  rcpt_4xx  F,1h,5m}.
 *
 * <p>As Exim's {@code retry_find_config()}: the pattern is matched as a one-item address list
 * against the failing address, or, for a host or domain key, against {@code *@key} (and against
 * {@code *@domain} of the address being delivered). Patterns: {@code *}, a domain, {@code *.domain}
 * (or any {@code *suffix}), {@code *@domain}, {@code user@domain}, and regular expressions starting
 * with {@code ^}, matched against the whole address. The error field is {@code *} or one of
 * {@link RetryError}'s Exim names; {@code mail_4xx}, {@code rcpt_4xx} and {@code data_4xx} may
 * name a decade ({@code rcpt_45x}) or an exact code ({@code rcpt_452}).
 */
public final class RetryRule {
  private final String pattern;
  private final Pattern regex;
  private final String errorSpec;
  private final RetryError error;
  /** -1: any 4xx; 40..49: decade (e.g. 45 for 45x); 400..499: exact code. */
  private final int replyCode;
  private final RetrySchedule schedule;

  private RetryRule(String pattern, Pattern regex, String errorSpec, RetryError error, int replyCode,
                    RetrySchedule schedule) {
    this.pattern = pattern;
    this.regex = regex;
    this.errorSpec = errorSpec;
    this.error = error;
    this.replyCode = replyCode;
    this.schedule = schedule;
  }

  /**
   * Parses one rule line.
   *
   * @throws IllegalArgumentException with a reason fit for a configuration error
   */
  public static RetryRule parse(String line, Duration intervalMax, Random random) {
    String[] f = line.trim().split("\\s+", 3);
    if (f.length < 2 || f[0].isEmpty()) {
      throw new IllegalArgumentException("a retry rule is \"<pattern> <error> <schedule>\", got \"" + line.trim() + "\"");
    }
    String pattern = f[0];
    Pattern regex = null;
    if (pattern.startsWith("^")) {
      try {
        regex = Pattern.compile(pattern, Pattern.CASE_INSENSITIVE);
      } catch (PatternSyntaxException e) {
        throw new IllegalArgumentException("bad regular expression \"" + pattern + "\": " + e.getDescription());
      }
    } else if (pattern.indexOf('@') != pattern.lastIndexOf('@') || pattern.endsWith("@")) {
      throw new IllegalArgumentException("bad address pattern \"" + pattern + "\"");
    }
    String errorSpec = f[1];
    RetryError error = null;
    int code = -1;
    if (!errorSpec.equals("*")) {
      String lower = errorSpec.toLowerCase(Locale.ROOT);
      error = RetryError.byEximName(lower);
      if (error == null) {
        var m = java.util.regex.Pattern.compile("(mail|rcpt|data)_4([0-9])([0-9x])").matcher(lower);
        if (!m.matches()) {
          throw new IllegalArgumentException("unknown error \"" + errorSpec + "\" (use *, timeout, refused, "
              + "lost_connection, mail_4xx, rcpt_4xx, data_4xx, auth_failed, tls_required or quota)");
        }
        error = RetryError.byEximName(m.group(1) + "_4xx");
        code = m.group(3).equals("x") ? 40 + Integer.parseInt(m.group(2))
            : 400 + Integer.parseInt(m.group(2) + m.group(3));
      }
    }
    String rest = f.length > 2 ? f[2].trim() : "";
    if (rest.startsWith("senders=")) {
      throw new IllegalArgumentException("senders= in retry rules is not supported");
    }
    return new RetryRule(pattern, regex, errorSpec, error, code, RetrySchedule.parse(rest, intervalMax, random));
  }

  public String pattern() {
    return pattern;
  }

  /** The error this rule is limited to, or null for {@code *}. */
  public RetryError error() {
    return error;
  }

  public RetrySchedule schedule() {
    return schedule;
  }

  /**
   * True when the rule applies.
   *
   * @param key             a host name, a domain or an address ({@code user@domain})
   * @param alternateDomain the domain of the address being delivered, tried as well when not null
   * @param failure         what went wrong
   * @param replyCode       the SMTP code received for the {@code *_4xx} errors, else 0
   */
  public boolean matches(String key, String alternateDomain, RetryError failure, int replyCode) {
    if (!errorMatches(failure, replyCode)) {
      return false;
    }
    return addressMatches(key.indexOf('@') >= 0 ? key : "*@" + key)
        || (alternateDomain != null && addressMatches("*@" + alternateDomain));
  }

  private boolean errorMatches(RetryError failure, int code) {
    if (error == null) {
      return true;
    }
    if (error != failure) {
      return false;
    }
    if (this.replyCode < 0) {
      return true;
    }
    return this.replyCode < 100 ? code / 10 == this.replyCode : code == this.replyCode;
  }

  private boolean addressMatches(String address) {
    if (regex != null) {
      return regex.matcher(address).find();
    }
    int at = address.lastIndexOf('@');
    String local = address.substring(0, at);
    String domain = address.substring(at + 1);
    int pat = pattern.indexOf('@');
    if (pat < 0) {
      return domainMatches(pattern, domain);
    }
    String localPattern = pattern.substring(0, pat);
    boolean localOk = localPattern.equals("*") || localPattern.equalsIgnoreCase(local);
    return localOk && domainMatches(pattern.substring(pat + 1), domain);
  }

  private static boolean domainMatches(String p, String domain) {
    if (p.equals("*")) {
      return true;
    }
    String d = domain.toLowerCase(Locale.ROOT);
    String q = p.toLowerCase(Locale.ROOT);
    if (q.startsWith("*")) {
      return d.endsWith(q.substring(1));
    }
    return d.equals(q);
  }

  /** The rule as written: {@code pattern error schedule}. */
  @Override
  public String toString() {
    return pattern + " " + errorSpec + (schedule.isEmpty() ? "" : " " + schedule);
  }
}
