package org.postern.policy;

import org.postern.bus.AclVerdict;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.postern.policy.AclCondition.Outcome;
import org.postern.bus.AclStage;
import org.postern.config.ConfigException;
import org.postern.config.ConfigLoader;
import org.postern.config.PosternConfig;

/**
 * {@code ratelimit}: counted in a real Vert.x instance's shared data, with a clock the test moves
 * so that window edges are exact and nothing sleeps.
 */
class RatelimitConditionTest {
  private static final Path CONFIG_FILE = Path.of("/postern-ratelimit-test/conf/postern.yaml").toAbsolutePath();
  /** A minute boundary, so that t0 starts a bucket of every period used below. */
  private static final long T0 = 29_000_000L * 60_000L;

  private Vertx vertx;
  private final AtomicLong now = new AtomicLong(T0);

  @BeforeEach
  void startVertx() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void closeVertx() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private RatelimitCondition rule(String spec) {
    return RatelimitCondition.parse(spec, now::get);
  }

  private static JsonObject host(String address) {
    return new JsonObject().put("sender_host_address", address).put("connection_id", "c1")
        .put("transaction_number", 1);
  }

  /** Evaluates once; the variables object receives $sender_rate and friends. */
  private Outcome eval(RatelimitCondition rule, JsonObject vars) throws Exception {
    AclContext context = new AclContext(vars, null).vertx(vertx);
    return rule.test(context).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private List<Outcome> evalTimes(RatelimitCondition rule, JsonObject vars, int times) throws Exception {
    List<Outcome> out = new ArrayList<>();
    for (int i = 0; i < times; i++) {
      out.add(eval(rule, vars));
    }
    return out;
  }

  /** $sender_rate of one more evaluation measured by a noupdate rule on the same counter. */
  private String storedPlusOne(String limitAndPeriod, JsonObject vars) throws Exception {
    JsonObject copy = vars.copy();
    eval(rule(limitAndPeriod + " / noupdate"), copy);
    return copy.getString("sender_rate");
  }

  @Test
  void fourthEventInTheWindowExceedsThreeAndTheWindowSlidesBack() throws Exception {
    RatelimitCondition rule = rule("3 / 1m / per_cmd");
    JsonObject vars = host("192.0.2.1");
    assertEquals(List.of(Outcome.FALSE, Outcome.FALSE, Outcome.FALSE), evalTimes(rule, vars, 3));
    assertEquals(Outcome.TRUE, eval(rule, vars));
    assertEquals("4.0", vars.getString("sender_rate"));
    assertEquals("3", vars.getString("sender_rate_limit"));
    assertEquals("1m", vars.getString("sender_rate_period"));
    // One period later the three events are still wholly inside the window (t0, t0 + 1m]: a
    // sliding window, not a fixed one that would have reset here.
    now.set(T0 + 60_000);
    assertEquals(Outcome.TRUE, eval(rule, vars));
    assertEquals("4.0", vars.getString("sender_rate"));
    // Half way through the next bucket half of them have slid out: 3 * 0.5 + 1.
    now.set(T0 + 90_000);
    assertEquals(Outcome.FALSE, eval(rule, vars));
    assertEquals("2.5", vars.getString("sender_rate"));
    // At t0 + 3m everything counted so far is more than a period old: only this one is left.
    now.set(T0 + 180_000);
    assertEquals(Outcome.FALSE, eval(rule, vars));
    assertEquals("1.0", vars.getString("sender_rate"));
  }

  @Test
  void leakyLeavesRefusedEventsOutStrictCountsThem() throws Exception {
    JsonObject leakyHost = host("192.0.2.1");
    assertEquals(List.of(Outcome.FALSE, Outcome.FALSE, Outcome.TRUE, Outcome.TRUE, Outcome.TRUE),
        evalTimes(rule("2 / 1m"), leakyHost, 5));
    assertEquals("3.0", storedPlusOne("2 / 1m", leakyHost));

    JsonObject strictHost = host("192.0.2.2");
    assertEquals(List.of(Outcome.FALSE, Outcome.FALSE, Outcome.TRUE, Outcome.TRUE, Outcome.TRUE),
        evalTimes(rule("2 / 1m / strict"), strictHost, 5));
    assertEquals("6.0", storedPlusOne("2 / 1m", strictHost));

    // The difference that matters: at t0 + 1m30s the leaky client is back under the limit
    // (2 * 0.5 + 1), the strict one still over (5 * 0.5 + 1).
    now.set(T0 + 90_000);
    assertEquals(Outcome.FALSE, eval(rule("2 / 1m"), leakyHost));
    assertEquals(Outcome.TRUE, eval(rule("2 / 1m / strict"), strictHost));
    assertEquals("3.5", strictHost.getString("sender_rate"));
  }

  @Test
  void noupdateAndReadonlyMeasureWithoutCounting() throws Exception {
    JsonObject vars = host("192.0.2.1");
    assertEquals(List.of(Outcome.FALSE, Outcome.FALSE, Outcome.FALSE), evalTimes(rule("1 / 1m / noupdate"), vars, 3));
    assertEquals("1.0", vars.getString("sender_rate"));
    assertEquals(Outcome.FALSE, eval(rule("1 / 1m / readonly"), vars));
    // The first counting evaluation still finds an empty window.
    assertEquals(Outcome.FALSE, eval(rule("1 / 1m"), vars));
    assertEquals("1.0", vars.getString("sender_rate"));
    assertEquals(Outcome.TRUE, eval(rule("1 / 1m / noupdate"), vars));
    assertEquals("2.0", vars.getString("sender_rate"));
  }

  @Test
  void perConnCountsTheFirstEvaluationOfEachConnection() throws Exception {
    RatelimitCondition rule = rule("2 / 1h / per_conn");
    JsonObject a = host("192.0.2.1").put("connection_id", "A");
    JsonObject b = host("192.0.2.1").put("connection_id", "B");
    JsonObject c = host("192.0.2.1").put("connection_id", "C");
    assertEquals(List.of(Outcome.FALSE, Outcome.FALSE, Outcome.FALSE), evalTimes(rule, a, 3));
    assertEquals("1.0", a.getString("sender_rate"));
    assertEquals(Outcome.FALSE, eval(rule, b.put("transaction_number", 7)));
    assertEquals("2.0", b.getString("sender_rate"));
    // The third connection is over the limit and, being refused (leaky), not counted: it is
    // measured afresh every time, and stays over.
    assertEquals(List.of(Outcome.TRUE, Outcome.TRUE), evalTimes(rule, c, 2));
    assertEquals("3.0", c.getString("sender_rate"));
    // A counted connection adds nothing more.
    assertEquals(Outcome.FALSE, eval(rule, a));
    assertEquals("2.0", a.getString("sender_rate"));
  }

  @Test
  void perMailCountsTheFirstEvaluationOfEachTransaction() throws Exception {
    RatelimitCondition rule = rule("2 / 1h / per_mail");
    JsonObject first = host("192.0.2.1").put("connection_id", "A").put("transaction_number", 1);
    assertEquals(List.of(Outcome.FALSE, Outcome.FALSE, Outcome.FALSE), evalTimes(rule, first, 3));
    assertEquals("1.0", first.getString("sender_rate"));
    JsonObject second = host("192.0.2.1").put("connection_id", "A").put("transaction_number", 2);
    assertEquals(List.of(Outcome.FALSE, Outcome.FALSE), evalTimes(rule, second, 2));
    assertEquals("2.0", second.getString("sender_rate"));
    // Transaction 1 of another connection is another message.
    JsonObject other = host("192.0.2.1").put("connection_id", "B").put("transaction_number", 1);
    assertEquals(Outcome.TRUE, eval(rule, other));
    assertEquals("3.0", other.getString("sender_rate"));
  }

  @Test
  void perByteCountsTheMessageSizeAndNothingBeforeItIsKnown() throws Exception {
    RatelimitCondition rule = rule("1K / 1h / per_byte");
    JsonObject vars = host("192.0.2.1");
    assertEquals(Outcome.FALSE, eval(rule, vars));
    assertEquals("0.0", vars.getString("sender_rate"));
    assertEquals(Outcome.FALSE, eval(rule, vars.copy().put("message_size", 1000)));
    JsonObject big = vars.copy().put("message_size", 25);
    assertEquals(Outcome.TRUE, eval(rule, big));
    assertEquals("1025.0", big.getString("sender_rate"));
    assertEquals("1K", big.getString("sender_rate_limit"));
  }

  @Test
  void keysAreIndependent() throws Exception {
    RatelimitCondition byHost = rule("1 / 1h");
    assertEquals(List.of(Outcome.FALSE, Outcome.TRUE), evalTimes(byHost, host("192.0.2.1"), 2));
    assertEquals(Outcome.FALSE, eval(byHost, host("192.0.2.2")));
    RatelimitCondition byUser = rule("1 / 1h / $authenticated_id");
    assertEquals(Outcome.FALSE, eval(byUser, host("192.0.2.1").put("authenticated_id", "alice")));
    assertEquals(Outcome.FALSE, eval(byUser, host("192.0.2.1").put("authenticated_id", "bob")));
    assertEquals(Outcome.TRUE, eval(byUser, host("192.0.2.9").put("authenticated_id", "alice")));
  }

  @Test
  void rulesWithDifferentPeriodsOrUnitsDoNotShareCounters() throws Exception {
    JsonObject vars = host("192.0.2.1");
    assertEquals(Outcome.FALSE, eval(rule("1 / 1h"), vars));
    assertEquals(Outcome.FALSE, eval(rule("1 / 2h"), vars));
    assertEquals(Outcome.FALSE, eval(rule("1 / 1h / per_rcpt"), vars));
    assertEquals(Outcome.TRUE, eval(rule("1 / 1h"), vars));
    // A different limit on the same thing shares the count, as in Exim.
    assertEquals(Outcome.TRUE, eval(rule("1.5 / 1h / noupdate"), vars));
    assertEquals("2.0", vars.getString("sender_rate"));
  }

  @Test
  void parallelStrictEvaluationsLoseNoCount() throws Exception {
    List<Outcome> outcomes = parallel(rule("100 / 1h / strict"), 200);
    assertEquals(100, outcomes.stream().filter(o -> o == Outcome.FALSE).count(), outcomes.toString());
    assertEquals(100, outcomes.stream().filter(o -> o == Outcome.TRUE).count(), outcomes.toString());
    assertEquals("201.0", storedPlusOne("100 / 1h", host("192.0.2.1")));
  }

  @Test
  void parallelLeakyEvaluationsAdmitExactlyTheLimit() throws Exception {
    List<Outcome> outcomes = parallel(rule("100 / 1h"), 200);
    assertEquals(100, outcomes.stream().filter(o -> o == Outcome.FALSE).count(), outcomes.toString());
    assertEquals(100, outcomes.stream().filter(o -> o == Outcome.TRUE).count(), outcomes.toString());
    assertEquals("101.0", storedPlusOne("100 / 1h", host("192.0.2.1")));
  }

  /** {@code count} evaluations from 16 threads released together. */
  private List<Outcome> parallel(RatelimitCondition rule, int count) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(16);
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<Outcome>> futures = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        futures.add(pool.submit(() -> {
          start.await();
          return eval(rule, host("192.0.2.1"));
        }));
      }
      start.countDown();
      List<Outcome> outcomes = new ArrayList<>();
      for (Future<Outcome> f : futures) {
        outcomes.add(f.get(30, TimeUnit.SECONDS));
      }
      return outcomes;
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void withoutVertxItDefers() throws Exception {
    JsonObject vars = host("192.0.2.1");
    Outcome outcome = rule("1 / 1h").test(new AclContext(vars, null)).toCompletionStage().toCompletableFuture()
        .get(5, TimeUnit.SECONDS);
    assertEquals(Outcome.DEFER, outcome);
    assertNull(vars.getString("sender_rate"));
  }

  @Test
  void anUnreadableCounterDefers() throws Exception {
    vertx.sharedData().<String, String>getAsyncMap(RatelimitStore.MAP)
        .compose(map -> map.put("per_cmd/3600000ms/192.0.2.1", "not a counter"))
        .toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    assertEquals(Outcome.DEFER, eval(rule("1 / 1h"), host("192.0.2.1")));
    assertEquals(Outcome.FALSE, eval(rule("1 / 1h"), host("192.0.2.2")));
  }

  @Test
  void aKeyThatFailsToExpandDefers() throws Exception {
    RatelimitCondition rule = rule("1 / 1h / ${if bool{$acl_m0}{a}{b}}");
    assertEquals(Outcome.DEFER, eval(rule, host("192.0.2.1").put("acl_m0", "perhaps")));
    assertEquals(Outcome.FALSE, eval(rule, host("192.0.2.1").put("acl_m0", "yes")));
  }

  @Test
  void aKeyMayHoldSlashesInsideAnExpansion() throws Exception {
    RatelimitSpec spec = RatelimitSpec.parse("1 / 1h / per_mail / ${if eq{$acl_m0}{a/b}{x}{y}}");
    assertEquals(RatelimitSpec.Unit.PER_MAIL, spec.unit());
    assertEquals("${if eq{$acl_m0}{a/b}{x}{y}}", spec.key().source());
  }

  @Test
  void specsParse() {
    RatelimitSpec full = RatelimitSpec.parse("1.5 / 1h30m / per_byte / strict / noupdate / $authenticated_id");
    assertEquals(1.5, full.limit());
    assertEquals(5_400_000L, full.periodMillis());
    assertEquals(RatelimitSpec.Unit.PER_BYTE, full.unit());
    assertTrue(full.strict());
    assertTrue(full.readonly());
    assertEquals("$authenticated_id", full.key().source());

    RatelimitSpec bare = RatelimitSpec.parse("0/90");
    assertEquals(0.0, bare.limit());
    assertEquals(90_000L, bare.periodMillis());
    assertEquals(RatelimitSpec.Unit.PER_CMD, bare.unit());
    assertFalse(bare.strict());
    assertFalse(bare.readonly());
    assertEquals("$sender_host_address", bare.key().source());

    assertEquals(10L * 1024 * 1024, RatelimitSpec.parse("10M / 1d / per_byte / leaky").limit());
    assertEquals(604_800_000L, RatelimitSpec.parse("5 / 1w / per_conn").periodMillis());
    assertEquals("slow_$sender_host_address", RatelimitSpec.parse("5 / 1w / slow_$sender_host_address").key().source());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', quoteCharacter = '\'', value = {
      "''                                    | missing limit",
      "' / 1h'                               | missing limit",
      "10                                    | missing period",
      "'10 /'                                | missing period",
      "ten / 1h                              | limit \"ten\" is not a non-negative number",
      "-1 / 1h                               | limit \"-1\" is not a non-negative number",
      "1e3 / 1h                              | limit \"1e3\" is not a non-negative number",
      "10 / soon                             | period \"soon\" is not a time",
      "10 / 1x                               | period \"1x\" is not a time",
      "10 / 1h 30m                           | period \"1h 30m\" is not a time",
      "10 / 0s                               | period must be longer than zero",
      "10 / 99999999999999999999w            | period \"99999999999999999999w\" is too long",
      "10 / 3651d                            | is too long (at most 3650d)",
      "10 / 1h / per_sec / $sender_host_address | unknown option \"per_sec\"",
      "10 / 1h / per_sec                     | unknown option \"per_sec\"",
      "10 / 1h / bogus / $sender_host_address | unknown option \"bogus\"",
      "10 / 1h / per_conn / per_mail         | per_conn and per_mail both given",
      "10 / 1h / strict / leaky              | give one of strict and leaky, once",
      "10 / 1h / per_addr                    | option \"per_addr\" is not supported",
      "10 / 1h / count=5 / x                 | option \"count=5\" is not supported",
      "10 / 1h / unique=$message_id / x      | option \"unique=$message_id\" is not supported",
      "10K / 1h / per_cmd                    | a K, M or G suffix on the limit needs per_byte",
      "10 / 1h / $no_such_variable           | key: unknown variable \"no_such_variable\"",
      "10 / 1h / ${if eq{a}{b}               | key: ",
      "'10 / 1h / per_cmd / '                | empty key between slashes",
      "10 / 1h // x                          | empty option between slashes",
  })
  void malformedSpecsAreConfigErrors(String spec, String fragment) throws Exception {
    ConfigException e = assertThrows(ConfigException.class,
        () -> config("acl_check_rcpt:\n  - accept: { verify: recipient }\n  - deny: { ratelimit: '"
            + spec.replace("'", "''") + "' }\n"));
    assertTrue(e.getMessage().contains(fragment), e.getMessage());
    assertTrue(e.getMessage().contains("ratelimit"), e.getMessage());
    assertEquals(3, e.line(), e.getMessage());
  }

  @Test
  void aYamlListIsNotASpec() {
    ConfigException e = assertThrows(ConfigException.class,
        () -> config("acl_check_rcpt:\n  - deny: { ratelimit: [ 10, 1h ] }\n"));
    assertTrue(e.getMessage().contains("ratelimit is one string"), e.getMessage());
  }

  private static PosternConfig config(String acl) throws Exception {
    List<Path> files = ConfigLoader.files(CONFIG_FILE);
    Map<Path, String> texts = new LinkedHashMap<>();
    texts.put(files.get(0), "primary_hostname: mx.test.example\nacl_smtp_rcpt: acl_check_rcpt\n");
    texts.put(files.get(1), acl);
    texts.put(files.get(2), "admin:\nalice:{PLAIN}alice-secret\n");
    texts.put(files.get(3), "postmaster: admin\n");
    return ConfigLoader.parse(CONFIG_FILE, texts);
  }

  private AclVerdict rcpt(PosternConfig config, JsonObject vars, List<String> trace, Vertx v) throws Exception {
    return AclEngine.evaluate(AclStage.RCPT, vars, config, trace::add, v).toCompletionStage().toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
  }

  @Test
  void theRulesMessageSeesTheMeasuredRate() throws Exception {
    PosternConfig config = config("acl_check_rcpt:\n"
        + "  - deny: { ratelimit: \"2 / 1h / per_rcpt\","
        + " message: \"rate $sender_rate over $sender_rate_limit per $sender_rate_period\" }\n"
        + "  - accept: { condition: \"${if eq{$sender_rate}{2.0}}\" }\n"
        + "  - deny: { message: \"fell through at $sender_rate\" }\n");
    List<String> trace = new ArrayList<>();
    AclVerdict first = rcpt(config, host("192.0.2.50"), trace, vertx);
    assertEquals(AclVerdict.Type.DENY, first.type());
    assertEquals("fell through at 1.0", first.message());
    assertEquals(AclVerdict.Type.ACCEPT, rcpt(config, host("192.0.2.50"), trace, vertx).type());
    AclVerdict third = rcpt(config, host("192.0.2.50"), trace, vertx);
    assertEquals(AclVerdict.Type.DENY, third.type());
    assertEquals("rate 3.0 over 2 per 1h", third.message());
    assertNull(third.set(), "sender_rate is no acl_ assignment for the session to keep");
    assertTrue(trace.contains("  ratelimit = 2 / 1h / per_rcpt => true"), trace.toString());
    assertTrue(trace.contains("  ratelimit per_rcpt/3600000ms/192.0.2.50: rate 3.0, not counted"), trace.toString());
    assertTrue(trace.contains("  ratelimit per_rcpt/3600000ms/192.0.2.50: rate 2.0, counted"), trace.toString());
  }

  @Test
  void negatedAndWithoutVertxThroughTheEngine() throws Exception {
    PosternConfig config = config("acl_check_rcpt:\n"
        + "  - accept: { \"!ratelimit\": \"1 / 1h / per_mail / noupdate / $authenticated_id\" }\n"
        + "  - deny: { message: \"over\" }\n");
    JsonObject vars = host("192.0.2.1").put("authenticated_id", "alice");
    assertEquals(AclVerdict.Type.ACCEPT, rcpt(config, vars.copy(), new ArrayList<>(), vertx).type());
    // No Vert.x (a pure evaluation): the rule cannot count, so the ACL defers, never accepts.
    assertEquals(AclVerdict.Type.DEFER, rcpt(config, vars.copy(), new ArrayList<>(), null).type());
  }
}
