package org.postern.config;

import org.postern.expand.EximTime;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RetryRulesTest {

  private static RetryRules parse(String yaml) throws ConfigException {
    return RetryRules.parse(YamlSection.parse("postern.yaml", yaml));
  }

  private static ConfigException refused(String yaml) {
    return assertThrows(ConfigException.class, () -> parse(yaml));
  }

  @Test
  void absentOptionGivesEximsDefaultRule() throws Exception {
    RetryRules rules = parse("primary_hostname: mx.example\n");
    assertEquals(1, rules.rules().size());
    assertEquals("* * F,2h,15m; G,16h,1h,1.5; F,4d,6h", rules.rules().get(0).toString());
    assertEquals(Duration.ofHours(24), rules.intervalMax());
    assertEquals(Duration.ofDays(7), rules.dataExpire());
    assertEquals(rules.rules().get(0).toString(), RetryRules.defaults().rules().get(0).toString());
  }

  @Test
  void listOfRulesKeepsOrderAndSchedules() throws Exception {
    RetryRules rules = parse("""
        retry:
          - "*.example.org  *  F,1h,5m; F,1d,1h"
          - "*  *  F,2h,15m; G,16h,1h,1.5; F,4d,6h"
        retry_interval_max: 12h
        retry_data_expire: 2d
        """);
    assertEquals(2, rules.rules().size());
    RetrySchedule first = rules.rules().get(0).schedule();
    assertEquals(List.of(
        new RetrySchedule.Step(RetrySchedule.Algorithm.F, Duration.ofHours(1), Duration.ofMinutes(5), 1),
        new RetrySchedule.Step(RetrySchedule.Algorithm.F, Duration.ofDays(1), Duration.ofHours(1), 1)),
        first.steps());
    assertEquals(new RetrySchedule.Step(RetrySchedule.Algorithm.G, Duration.ofHours(16), Duration.ofHours(1), 1.5),
        rules.rules().get(1).schedule().steps().get(1));
    assertEquals(Duration.ofHours(12), rules.intervalMax());
    assertEquals(Duration.ofDays(2), rules.dataExpire());
  }

  @Test
  void singleStringRuleAndCombinedTimes() throws Exception {
    RetryRules rules = parse("retry: \"* * F,1d12h,1h30m; H,1w,2h,2\"\n");
    assertEquals("* * F,1d12h,1h30m; H,1w,2h,2", rules.rules().get(0).toString());
    assertEquals(Duration.ofHours(36), rules.rules().get(0).schedule().steps().get(0).cutoff());
  }

  @Test
  void emptyListMeansNoRetries() throws Exception {
    RetryRules rules = parse("retry: []\n");
    assertTrue(rules.rules().isEmpty());
    assertNull(rules.find("mx.example.org", "example.org", RetryError.TIMEOUT, 0));
  }

  @Test
  void ruleWithoutScheduleMeansNoRetriesForItsErrors() throws Exception {
    RetryRules rules = parse("retry: [\"* auth_failed\", \"* * F,1h,5m\"]\n");
    RetryRule r = rules.find("mx.example.org", null, RetryError.AUTH_FAILED, 0);
    assertTrue(r.schedule().isEmpty());
    Instant0 t = new Instant0();
    RetrySchedule.Outcome o = r.schedule().next(t.at(0), t.at(0), t.at(0));
    assertTrue(o.giveUp());
  }

  @Test
  void patternsMatchAsEximAddressLists() throws Exception {
    RetryRules rules = parse("""
        retry:
          - "*.example.org  *  F,1h,1m"
          - "example.net  *  F,1h,2m"
          - "*@example.com  *  F,1h,3m"
          - "bob@example.edu  *  F,1h,4m"
          - "^.*@mx[0-9]+\\\\.example\\\\.info$  *  F,1h,5m"
          - "*  *  F,1h,6m"
        """);
    assertEquals("1m", interval(rules, "mx1.example.org", null));
    assertEquals("6m", interval(rules, "example.org", null), "*.example.org needs a subdomain");
    assertEquals("1m", interval(rules, "mx.other.test", "sub.EXAMPLE.org"), "domain of the address as alternate");
    assertEquals("2m", interval(rules, "EXAMPLE.NET", null));
    assertEquals("3m", interval(rules, "example.com", null), "a host key is matched as *@key");
    assertEquals("3m", interval(rules, "anyone@example.com", null));
    assertEquals("4m", interval(rules, "Bob@example.edu", null));
    assertEquals("6m", interval(rules, "alice@example.edu", null));
    assertEquals("6m", interval(rules, "example.edu", null), "a user@domain rule never matches a host");
    assertEquals("5m", interval(rules, "mx12.example.info", null));
    assertEquals("6m", interval(rules, "mail.example.info", null));
  }

  private static String interval(RetryRules rules, String key, String domain) {
    return EximTime.format(rules.find(key, domain, RetryError.TIMEOUT, 0).schedule().steps().get(0).interval());
  }

  @Test
  void errorFieldSelectsRules() throws Exception {
    RetryRules rules = parse("""
        retry:
          - "* rcpt_452 F,1h,1m"
          - "* rcpt_45x F,1h,2m"
          - "* rcpt_4xx F,1h,3m"
          - "* timeout F,1h,4m"
          - "* refused F,1h,5m"
          - "* mail_4xx F,1h,6m"
          - "* data_4xx F,1h,7m"
          - "* tls_required F,1h,8m"
          - "* * F,1h,9m"
        """);
    assertEquals("1m", errorInterval(rules, RetryError.RCPT_4XX, 452));
    assertEquals("2m", errorInterval(rules, RetryError.RCPT_4XX, 451));
    assertEquals("3m", errorInterval(rules, RetryError.RCPT_4XX, 421));
    assertEquals("4m", errorInterval(rules, RetryError.TIMEOUT, 0));
    assertEquals("5m", errorInterval(rules, RetryError.REFUSED, 0));
    assertEquals("6m", errorInterval(rules, RetryError.MAIL_4XX, 451));
    assertEquals("7m", errorInterval(rules, RetryError.DATA_4XX, 452));
    assertEquals("8m", errorInterval(rules, RetryError.TLS_REQUIRED, 0));
    assertEquals("9m", errorInterval(rules, RetryError.AUTH_FAILED, 0));
    assertEquals("9m", errorInterval(rules, RetryError.OTHER, 0));
  }

  private static String errorInterval(RetryRules rules, RetryError e, int code) {
    return EximTime.format(rules.find("mx.example.org", null, e, code).schedule().steps().get(0).interval());
  }

  @Test
  void unknownErrorNameIsAConfigErrorNamingFileLineAndOption() {
    ConfigException e = refused("""
        primary_hostname: mx.example
        retry:
          - "*  *  F,2h,15m"
          - "*  rcpt_5xx  F,2h,15m"
        """);
    assertEquals("postern.yaml", e.file());
    assertEquals(4, e.line());
    assertEquals("retry", e.option());
    assertEquals("postern.yaml:4: retry: unknown error \"rcpt_5xx\" (use *, timeout, refused, lost_connection, "
        + "mail_4xx, rcpt_4xx, data_4xx, auth_failed, tls_required or quota)", e.getMessage());
  }

  @Test
  void badSchedulesAreRefusedWithTheirReason() {
    assertEquals("postern.yaml:1: retry: unknown retry algorithm \"X\" in \"X,2h,15m\" (use F, G or H)",
        refused("retry: [\"* * X,2h,15m\"]\n").getMessage());
    assertEquals("postern.yaml:1: retry: \"F,2h\": F takes <cutoff>,<interval>",
        refused("retry: [\"* * F,2h\"]\n").getMessage());
    assertEquals("postern.yaml:1: retry: \"G,16h,1h\": G takes <cutoff>,<initial>,<multiplier>",
        refused("retry: [\"* * G,16h,1h\"]\n").getMessage());
    assertEquals("postern.yaml:1: retry: \"F,2x,15m\": cutoff: not a time: \"2x\" (use e.g. 15m, 2h, 4d, 1w, 1d12h)",
        refused("retry: [\"* * F,2x,15m\"]\n").getMessage());
    assertEquals("postern.yaml:1: retry: \"F,2h,0m\": interval must be greater than zero",
        refused("retry: [\"* * F,2h,0m\"]\n").getMessage());
    assertEquals("postern.yaml:1: retry: \"G,16h,1h,fast\": multiplier is not a number: \"fast\"",
        refused("retry: [\"* * G,16h,1h,fast\"]\n").getMessage());
    assertEquals("postern.yaml:1: retry: \"G,16h,1h,0.5\": multiplier must be at least 1",
        refused("retry: [\"* * G,16h,1h,0.5\"]\n").getMessage());
    assertEquals("postern.yaml:1: retry: \"F,1h,10m\": cutoff must be later than the previous one",
        refused("retry: [\"* * F,2h,15m; F,1h,10m\"]\n").getMessage());
    assertEquals("postern.yaml:1: retry: a retry rule is \"<pattern> <error> <schedule>\", got \"*\"",
        refused("retry: [\"*\"]\n").getMessage());
    assertEquals("postern.yaml:1: retry: bad regular expression \"^(unclosed\": Unclosed group",
        refused("retry: [\"^(unclosed * F,1h,5m\"]\n").getMessage());
    assertEquals("postern.yaml:1: retry: senders= in retry rules is not supported",
        refused("retry: [\"* * senders=: F,1h,5m\"]\n").getMessage());
    assertEquals("postern.yaml:1: retry: bad address pattern \"a@b@example.org\"",
        refused("retry: [\"a@b@example.org * F,1h,5m\"]\n").getMessage());
    assertEquals("postern.yaml:2: retry: each rule is one string: \"<pattern> <error> <schedule>\"",
        refused("retry:\n  - {pattern: x}\n").getMessage());
  }

  @Test
  void intervalMaxAndDataExpireAreChecked() {
    assertEquals("postern.yaml:1: retry_interval_max: must be greater than zero and at most 24h",
        refused("retry_interval_max: 2d\n").getMessage());
    assertEquals("postern.yaml:1: retry_data_expire: must be greater than zero",
        refused("retry_data_expire: 0s\n").getMessage());
  }

  @Test
  void eximTimes() {
    assertEquals(Duration.ofSeconds(90), EximTime.parse("90"));
    assertEquals(Duration.ofSeconds(30), EximTime.parse("30s"));
    assertEquals(Duration.ofDays(8).plusHours(1), EximTime.parse("1w1d1h"));
    assertEquals("1w1d1h", EximTime.format(Duration.ofDays(8).plusHours(1)));
    assertThrows(IllegalArgumentException.class, () -> EximTime.parse("1h 5m"));
    assertThrows(IllegalArgumentException.class, () -> EximTime.parse(""));
    assertThrows(IllegalArgumentException.class, () -> EximTime.parse("99999999999999999999w"));
  }

  @Test
  void randomIsPassedToHSchedules() throws Exception {
    Random fixed = new Random() {
      @Override
      public long nextLong(long bound) {
        return 0;
      }
    };
    RetryRules rules = RetryRules.parse(YamlSection.parse("p.yaml", "retry: [\"* * H,1d,1h,2\"]\n"), fixed);
    RetrySchedule s = rules.rules().get(0).schedule();
    Instant0 t = new Instant0();
    // last gap 3h -> geometric 6h; spread 5h; with a random draw of 0 the interval is 1h + 2.5h.
    assertEquals(t.at(3 * 60 + 210), s.next(t.at(0), t.at(0), t.at(180), t.at(180), null, true).nextTry());
    assertSame(RetrySchedule.none(), RetrySchedule.none());
  }

  /** Minutes from a fixed instant. */
  static final class Instant0 {
    private final java.time.Instant base = java.time.Instant.parse("2026-01-05T10:00:00Z");

    java.time.Instant at(long minutes) {
      return base.plusSeconds(minutes * 60);
    }
  }
}
