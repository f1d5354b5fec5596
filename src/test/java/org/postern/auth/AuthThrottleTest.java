package org.postern.auth;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postern.testing.Await;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SettableClock;
import org.postern.testing.SmtpTestClient;
import org.postern.testing.SmtpTestClient.Reply;
import org.postern.testing.TestPki;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.auth.AuthTesting.assertReply;
import static org.postern.auth.AuthTesting.b64;
import static org.postern.auth.AuthTesting.plain;
import static org.postern.auth.AuthTesting.secret;

/**
 * Password guessing: {@code smtp_max_auth_failures} ends the session, {@code smtp_auth_failure_delay}
 * grows with each failure, {@code auth_failures_per_host}/{@code auth_failures_window} refuse an
 * address for a while across sessions; and bcrypt checks run off the event loops.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AuthThrottleTest {
  private static final String ALICE_PW = secret("Throttle-Alice-pw-62fa");
  private static final String BOB_PW = secret("Throttle-Bob-bcrypt-pw-0e91");
  private static final String WRONG_PW = secret("Throttle-Wrong-pw-d83c");

  /** smtp_max_auth_failures 3, no delay, no per-host limit. */
  private static PosternTestServer brute;
  /** smtp_auth_failure_delay 1s (time values have whole seconds only, see the disabled 200ms test). */
  private static PosternTestServer delayed;
  /** auth_failures_per_host 4 within 2s of {@link #PER_HOST_CLOCK}; STARTTLS available for a second address. */
  private static PosternTestServer perHost;
  /** The clock perHost's failure windows count in: the test moves it past a window instead of waiting. */
  private static final SettableClock PER_HOST_CLOCK = new SettableClock(Instant.now());
  /** bob, carol, dave stored as BLF-CRYPT, ARGON2ID, SHA512-CRYPT; protocol errors not limited (for the probes). */
  private static PosternTestServer bcrypt;

  @BeforeAll
  static void start() throws Exception {
    brute = PosternTestServer.create()
        .users("admin:", "alice:{PLAIN}" + ALICE_PW)
        .option("smtp_max_auth_failures", "3")
        .option("smtp_auth_failure_delay", "0s")
        .option("auth_failures_per_host", "0")
        .option("authenticators", AuthTesting.WITH_CRAM_MD5)
        .start();
    delayed = PosternTestServer.create()
        .users("admin:", "alice:{PLAIN}" + ALICE_PW)
        .option("smtp_max_auth_failures", "5")
        .option("smtp_auth_failure_delay", "1s")
        .option("auth_failures_per_host", "0")
        .start();
    perHost = AuthTesting.tlsServer()
        .users("admin:", "alice:{PLAIN}" + ALICE_PW)
        .option("smtp_auth_failure_delay", "0s")
        .option("auth_failures_per_host", "4")
        .option("auth_failures_window", "2s")
        .replace(AuthVerticle.class.getName(), () -> new AuthVerticle(PER_HOST_CLOCK))
        .start();
    // Every slow scheme: bcrypt (cost 10), Argon2id (8 MiB, so that 64 MiB arrays do not bring GC
    // pauses into the latency measured), SHA-512-crypt (5000 rounds).
    byte[] pw = BOB_PW.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    bcrypt = PosternTestServer.create()
        .users("admin:", "alice:{PLAIN}" + ALICE_PW, "bob:" + PasswordSchemes.create("BLF-CRYPT", BOB_PW),
            "carol:{ARGON2ID}" + PasswordSchemes.argon2id(pw, PasswordSchemes.randomBytes(16), 8192, 3, 1, 32),
            "dave:" + PasswordSchemes.create("SHA512-CRYPT", BOB_PW))
        .option("smtp_auth_failure_delay", "0s")
        .option("auth_failures_per_host", "0")
        .option("smtp_max_synprot_errors", "1000")
        .option("authenticators", AuthTesting.WITH_CRAM_MD5)
        .start();
  }

  @AfterAll
  static void stop() throws Exception {
    PosternTestServer.closeAll(brute, delayed, perHost, bcrypt);
    // No password this class sent, right or wrong, reached a log.
    AuthTesting.assertNoSecretsLogged(java.util.Set.of());
  }

  private static SmtpTestClient ehloed(PosternTestServer s) throws IOException {
    SmtpTestClient c = SmtpTestClient.connect(s.port());
    assertEquals(220, c.reply().code());
    assertEquals(250, c.command("EHLO client.test.example").code());
    return c;
  }

  // ---------------------------------------------------------------------------------------------
  // smtp_max_auth_failures

  @Test
  void thirdFailureIs421AndClosesTheConnection() throws Exception {
    try (SmtpTestClient c = ehloed(brute)) {
      assertReply(535, "5.7.8", c.command("AUTH PLAIN " + plain("alice", WRONG_PW)));
      assertReply(535, "5.7.8", c.command("AUTH PLAIN " + plain("alice", WRONG_PW)));
      assertReply(421, "4.7.0", c.command("AUTH PLAIN " + plain("alice", WRONG_PW)));
      c.timeout(3000);
      assertTrue(c.closedByServer(), "the connection must be closed after the 421");
    }
    // The limit is per session: a new one authenticates.
    try (SmtpTestClient c = ehloed(brute)) {
      assertReply(235, "2.7.0", c.command("AUTH PLAIN " + plain("alice", ALICE_PW)));
    }
  }

  @Test
  void failuresOfDifferentMechanismsAddUp() throws Exception {
    try (SmtpTestClient c = ehloed(brute)) {
      assertEquals(334, c.command("AUTH LOGIN " + b64("alice")).code());
      assertReply(535, "5.7.8", c.command(b64(WRONG_PW)));
      Reply challenge = c.command("AUTH CRAM-MD5");
      assertEquals(334, challenge.code(), challenge.toString());
      assertReply(535, "5.7.8", c.command(b64("alice 0123456789abcdef0123456789abcdef")));
      assertReply(421, "4.7.0", c.command("AUTH PLAIN " + plain("alice", WRONG_PW)));
      c.timeout(3000);
      assertTrue(c.closedByServer(), "the connection must be closed after the 421");
    }
  }

  // ---------------------------------------------------------------------------------------------
  // smtp_auth_failure_delay

  /** Two wrong passwords; asserts the delays of their 535s (ms) against the configured delay, then the right one works. */
  private static void assertDoublingDelay(PosternTestServer s, long delayMs) throws Exception {
    try (SmtpTestClient c = ehloed(s)) {
      long t0 = System.nanoTime();
      assertReply(535, "5.7.8", c.command("AUTH PLAIN " + plain("alice", WRONG_PW)));
      long first = (System.nanoTime() - t0) / 1_000_000;
      long t1 = System.nanoTime();
      assertReply(535, "5.7.8", c.command("AUTH PLAIN " + plain("alice", WRONG_PW)));
      long second = (System.nanoTime() - t1) / 1_000_000;
      assertTrue(first >= delayMs * 3 / 4, "first failure answered after " + first + " ms, expected about " + delayMs);
      assertTrue(second >= delayMs * 7 / 4,
          "second failure answered after " + second + " ms, expected about " + 2 * delayMs);
      // Still a working session, and the right password is not refused.
      long t2 = System.nanoTime();
      assertReply(235, "2.7.0", c.command("AUTH PLAIN " + plain("alice", ALICE_PW)));
      long success = (System.nanoTime() - t2) / 1_000_000;
      // A success is not delayed (loose bound: the next failure delay would be 4 times the delay).
      assertTrue(success < 2 * delayMs, "success answered after " + success + " ms");
    }
  }

  @Test
  void failureDelayDoublesWithEachFailure() throws Exception {
    assertDoublingDelay(delayed, 1000);
  }

  @Test
  void subSecondFailureDelayDoubles() throws Exception {
    try (PosternTestServer s = PosternTestServer.create()) {
      s.users("admin:", "alice:{PLAIN}" + ALICE_PW)
          .option("smtp_max_auth_failures", "5")
          .option("smtp_auth_failure_delay", "200ms")
          .option("auth_failures_per_host", "0")
          .start();
      assertDoublingDelay(s, 200);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // auth_failures_per_host / auth_failures_window

  @Test
  void tooManyFailuresFromAnAddressGet454UntilTheWindowExpires() throws Exception {
    for (int session = 0; session < 2; session++) {
      try (SmtpTestClient c = ehloed(perHost)) {
        assertReply(535, "5.7.8", c.command("AUTH PLAIN " + plain("alice", WRONG_PW)));
        assertReply(535, "5.7.8", c.command("AUTH PLAIN " + plain("alice", WRONG_PW)));
      }
    }
    try (SmtpTestClient c = ehloed(perHost)) {
      // Even the right password is refused now, with a temporary code.
      assertReply(454, "4.7.0", c.command("AUTH PLAIN " + plain("alice", ALICE_PW)));
      assertReply(454, "4.7.0", c.command("AUTH LOGIN"));
      // Not authenticated (else 503), and the session goes on.
      assertReply(454, "4.7.0", c.command("AUTH PLAIN " + plain("alice", ALICE_PW)));
      assertReply(250, "2.0.0", c.command("NOOP"));
    }
    // The count is per address: 127.0.0.2 (over TLS, where AUTH is offered to it) is not refused.
    try (AuthSmtpClient c = AuthSmtpClient.connect("127.0.0.2", perHost.port())) {
      c.ehlo("client.test.example");
      c.startTlsAndEhlo(TestPki.shared().clientContext());
      assertReply(235, "2.7.0", c.command("AUTH PLAIN " + plain("alice", ALICE_PW)));
    }
    // Two windows later none of the failures is left in the sliding window.
    PER_HOST_CLOCK.advance(Duration.ofSeconds(4));
    try (SmtpTestClient c = ehloed(perHost)) {
      assertReply(235, "2.7.0", c.command("AUTH PLAIN " + plain("alice", ALICE_PW)));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Reservation before the password check (issue 11: 100 parallel AUTHs made 100 checks, limit 10)

  /** Replies to one wrong-password AUTH per connection, all sent at once, from {@code sources}. */
  private static List<Reply> parallelWrongAuths(PosternTestServer s, List<String> sources, String user, String pw)
      throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(sources.size());
    List<SmtpTestClient> sessions = new ArrayList<>();
    try {
      for (String source : sources) {
        SmtpTestClient c = SmtpTestClient.connectFrom(source, s.port());
        assertEquals(220, c.reply().code());
        assertEquals(250, c.command("EHLO client.test.example").code());
        // Long enough for 100 bcrypt checks in a row on a loaded machine, as the old code made them.
        c.timeout(50_000);
        sessions.add(c);
      }
      CountDownLatch go = new CountDownLatch(1);
      List<Future<Reply>> results = new ArrayList<>();
      for (SmtpTestClient c : sessions) {
        results.add(pool.submit(() -> {
          go.await();
          return c.command("AUTH PLAIN " + plain(user, pw));
        }));
      }
      go.countDown();
      List<Reply> replies = new ArrayList<>();
      for (Future<Reply> f : results) {
        replies.add(f.get(50, TimeUnit.SECONDS));
      }
      return replies;
    } finally {
      for (SmtpTestClient c : sessions) {
        c.close();
      }
      pool.shutdownNow();
    }
  }

  private static long count(List<Reply> replies, int code, String enhanced) {
    return replies.stream().filter(r -> r.code() == code && enhanced.equals(r.enhanced())).count();
  }

  /** Main-log lines with every one of {@code texts}, once {@code expected} of them are there (or the deadline passed). */
  private static List<String> mainlogLinesWith(int expected, String... texts) throws Exception {
    return Await.value(5000, () -> AuthTesting.mainlogLines().stream()
        .filter(l -> java.util.Arrays.stream(texts).allMatch(l::contains)).toList(), found -> found.size() >= expected);
  }


  @Test
  void parallelAuthsFromOneAddressReachThePasswordCheckAtMostLimitTimes() throws Exception {
    // A bcrypt user, so that each check takes long enough for the other 99 AUTHs to arrive.
    String racer = "racer" + Long.toHexString(System.nanoTime());
    try (PosternTestServer s = PosternTestServer.create()) {
      s.users("admin:", racer + ":" + PasswordSchemes.create("BLF-CRYPT", BOB_PW))
          .option("smtp_auth_failure_delay", "0s")
          .option("auth_failures_per_host", "10")
          .option("auth_failures_per_network", "0")
          .option("auth_failures_per_user", "0")
          .option("smtp_accept_max_per_host", "200")
          .start();
      List<Reply> replies = parallelWrongAuths(s, java.util.Collections.nCopies(100, "127.0.0.1"), racer, WRONG_PW);
      // Every 535 is one password check; the rest were refused before any check.
      assertEquals(10, count(replies, 535, "5.7.8"), replies.toString());
      assertEquals(90, count(replies, 454, "4.7.0"), replies.toString());
      List<String> checked = mainlogLinesWith(10, "authenticator failed", "set_id=" + racer);
      assertEquals(10, checked.size(), String.join("\n", checked));
      assertTrue(checked.get(0).contains(": 535 5.7.8 Authentication credentials invalid (set_id=" + racer + ")"),
          checked.get(0));
      assertTrue(AuthTesting.awaitMainlog(5000, "AUTH refused for", "454 4.7.0",
          "too many recent failures from this address").isPresent(), "no log line for the 454s");
    }
  }

  @Test
  void twentyAddressesOfOneNetworkAreThrottledByTheNetworkWindow() throws Exception {
    try (PosternTestServer s = PosternTestServer.create()) {
      s.users("admin:", "alice:{PLAIN}" + ALICE_PW)
          .option("auth_advertise_hosts", "\"*\"")
          .option("smtp_auth_failure_delay", "0s")
          .option("auth_failures_per_host", "5")
          .option("auth_failures_per_network", "10")
          .option("auth_failures_per_user", "0")
          .start();
      List<String> sources = new ArrayList<>();
      for (int i = 1; i <= 20; i++) {
        sources.add("127.0.0." + (100 + i));
      }
      // One failure per address: never the per-address limit, but 20 in one /24.
      List<Reply> replies = parallelWrongAuths(s, sources, "alice", WRONG_PW);
      assertEquals(10, count(replies, 535, "5.7.8"), replies.toString());
      assertEquals(10, count(replies, 454, "4.7.0"), replies.toString());
      assertTrue(AuthTesting.awaitMainlog(5000, "AUTH refused for", "454 4.7.0",
          "too many recent failures from the network 127.0.0.0/24").isPresent(), "no log line naming the network");
      // Even the right password from a fresh address of that network waits...
      try (SmtpTestClient c = SmtpTestClient.connectFrom("127.0.0.250", s.port())) {
        c.reply();
        c.command("EHLO client.test.example");
        assertReply(454, "4.7.0", c.command("AUTH PLAIN " + plain("alice", ALICE_PW)));
      }
      // ...while another network is not concerned.
      try (SmtpTestClient c = SmtpTestClient.connectFrom("127.0.1.5", s.port())) {
        c.reply();
        c.command("EHLO client.test.example");
        assertReply(235, "2.7.0", c.command("AUTH PLAIN " + plain("alice", ALICE_PW)));
      }
    }
  }

  @Test
  void failuresForOneUserFromManyNetworksAreThrottledByTheUserWindow() throws Exception {
    try (PosternTestServer s = PosternTestServer.create()) {
      s.users("admin:", "alice:{PLAIN}" + ALICE_PW, "bob:{PLAIN}" + BOB_PW)
          .option("auth_advertise_hosts", "\"*\"")
          .option("smtp_auth_failure_delay", "0s")
          .option("auth_failures_per_host", "0")
          .option("auth_failures_per_network", "0")
          .option("auth_failures_per_user", "3")
          .start();
      // Three networks, one failure each: the account has had its three.
      for (String source : List.of("127.0.1.1", "127.0.2.1", "127.0.3.1")) {
        try (SmtpTestClient c = SmtpTestClient.connectFrom(source, s.port())) {
          c.reply();
          c.command("EHLO client.test.example");
          assertReply(535, "5.7.8", c.command("AUTH PLAIN " + plain("alice", WRONG_PW)));
        }
      }
      try (SmtpTestClient c = SmtpTestClient.connectFrom("127.0.4.1", s.port())) {
        c.reply();
        c.command("EHLO client.test.example");
        // The user name is only known inside the exchange: LOGIN gets its prompts, then 454.
        assertEquals(334, c.command("AUTH LOGIN").code());
        assertEquals(334, c.command(b64("ALICE")).code());
        assertReply(454, "4.7.0", c.command(b64(ALICE_PW)));
        assertReply(454, "4.7.0", c.command("AUTH PLAIN " + plain("alice", ALICE_PW)));
        // Another user, same address: not concerned.
        assertReply(235, "2.7.0", c.command("AUTH PLAIN " + plain("bob", BOB_PW)));
      }
      assertTrue(AuthTesting.awaitMainlog(5000, "AUTH refused for", "too many recent failures from this user")
          .isPresent(), "no log line for the user window");
    }
  }

  // ---------------------------------------------------------------------------------------------
  // A mechanism that cannot use the stored scheme (issue 11: CRAM-MD5 cost a failure per login)

  @Test
  void mechanismThatCannotUseTheStoredSchemeIsNotCounted() throws Exception {
    try (PosternTestServer s = PosternTestServer.create()) {
      s.users("admin:", "bob:" + PasswordSchemes.create("BLF-CRYPT", BOB_PW), "erin:{SHA1}2jmj7l5rSw0yVb/vlWAYkK/YBwk=")
          .option("authenticators", AuthTesting.WITH_CRAM_MD5)
          .option("smtp_auth_failure_delay", "0s")
          .option("smtp_max_auth_failures", "2")
          .option("auth_failures_per_host", "1")
          .start();
      try (SmtpTestClient c = ehloed(s)) {
        // What Python's smtplib does with every login: CRAM-MD5 first (right password), then PLAIN.
        for (int i = 0; i < 3; i++) {
          Reply challenge = c.command("AUTH CRAM-MD5");
          assertEquals(334, challenge.code(), challenge.toString());
          String digest = java.util.HexFormat.of().formatHex(CramMd5Key.fromPassword(BOB_PW)
              .hmac(java.util.Base64.getDecoder().decode(challenge.text())));
          assertReply(535, "5.7.8", c.command(b64("bob " + digest)));
        }
        // An unknown scheme cannot be checked by PLAIN either: uncounted too.
        assertReply(535, "5.7.8", c.command("AUTH PLAIN " + plain("erin", WRONG_PW)));
        // Neither smtp_max_auth_failures (2) nor auth_failures_per_host (1) was touched.
        assertReply(235, "2.7.0", c.command("AUTH PLAIN " + plain("bob", BOB_PW)));
      }
      String cram = AuthTesting.awaitMainlog(5000, "cram_md5 authenticator failed", "set_id=bob",
          "CRAM-MD5 cannot use the stored scheme {BLF-CRYPT}", "(not counted as a failure)")
          .orElseThrow(() -> new AssertionError("no log line saying why CRAM-MD5 failed"));
      assertTrue(cram.contains(": 535 5.7.8 Authentication credentials invalid"), cram);
      assertTrue(AuthTesting.awaitMainlog(5000, "plain authenticator failed", "set_id=erin",
          "stored scheme {SHA1} is unknown", "(not counted as a failure)").isPresent(), "no log line for {SHA1}");
    }
  }

  @Test
  void aCountedFailureIsLoggedWithTheReplySent() throws Exception {
    try (SmtpTestClient c = ehloed(brute)) {
      String user = "logged" + Long.toHexString(System.nanoTime());
      assertReply(535, "5.7.8", c.command("AUTH PLAIN " + plain(user, WRONG_PW)));
      assertReply(535, "5.7.8", c.command("AUTH PLAIN " + plain(user, WRONG_PW)));
      assertReply(421, "4.7.0", c.command("AUTH PLAIN " + plain(user, WRONG_PW)));
      List<String> lines = mainlogLinesWith(3, "plain authenticator failed", "set_id=" + user);
      assertEquals(3, lines.size(), String.join("\n", lines));
      assertTrue(lines.get(0).contains(": 535 5.7.8 Authentication credentials invalid (set_id=" + user + ")"),
          lines.get(0));
      assertTrue(lines.get(2).contains(": 421 4.7.0 Too many authentication failures (set_id=" + user + ")"),
          lines.get(2));
      assertTrue(lines.get(2).endsWith("too many failures, connection dropped"), lines.get(2));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // bcrypt, Argon2id and SHA-512-crypt off the event loops

  @Test
  void concurrentBcryptChecksDoNotStallOtherSessions() throws Exception {
    int clients = 20;
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    SmtpTestClient probe = ehloed(bcrypt);
    try {
      // Warm-up: the probe's paths (NOOP; CRAM-MD5, which the authenticator verticle answers on its
      // event loop) before measuring.
      probeOnce(probe);
      CountDownLatch go = new CountDownLatch(1);
      List<Future<Reply>> results = new ArrayList<>();
      List<SmtpTestClient> sessions = new ArrayList<>();
      for (int i = 0; i < clients; i++) {
        sessions.add(ehloed(bcrypt));
      }
      String[] users = {"bob", "carol", "dave"};
      for (int i = 0; i < sessions.size(); i++) {
        SmtpTestClient s = sessions.get(i);
        String user = users[i % users.length];
        results.add(pool.submit(() -> {
          go.await();
          return s.command("AUTH PLAIN " + plain(user, BOB_PW));
        }));
      }
      long start = System.nanoTime();
      go.countDown();
      long maxNoop = 0;
      long maxChallenge = 0;
      int rounds = 0;
      // How many slow-hash AUTHs were still unanswered when a probe's CRAM-MD5 challenge came back:
      // ordering, not time. Were the hashes on the authenticator's event loop, the challenge would
      // queue behind all of them and come back only when none is left.
      long mostPendingAtAChallenge = 0;
      while (results.stream().anyMatch(f -> !f.isDone()) || rounds < 3) {
        long[] t = probeOnce(probe);
        mostPendingAtAChallenge = Math.max(mostPendingAtAChallenge, results.stream().filter(f -> !f.isDone()).count());
        maxNoop = Math.max(maxNoop, t[0]);
        maxChallenge = Math.max(maxChallenge, t[1]);
        rounds++;
        if (rounds % 500 == 0) {
          // Each probe is a cancelled exchange (501): stay well under smtp_max_synprot_errors.
          probe.close();
          probe = ehloed(bcrypt);
        }
        // Paces the probes (not a wait for anything): a probe every few ms while the hashes run.
        Thread.sleep(5);
      }
      long total = (System.nanoTime() - start) / 1_000_000;
      for (Future<Reply> f : results) {
        assertReply(235, "2.7.0", f.get(30, TimeUnit.SECONDS));
      }
      for (SmtpTestClient s : sessions) {
        s.close();
      }
      String stats = rounds + " probe rounds during " + total + " ms of " + clients + " slow-hash AUTHs: max NOOP "
          + maxNoop + " ms, max CRAM-MD5 challenge " + maxChallenge + " ms, at most " + mostPendingAtAChallenge
          + " AUTHs pending when a challenge came back";
      System.err.println(stats);
      assertTrue(mostPendingAtAChallenge >= clients / 2, "challenges waited behind the hashes: " + stats);
    } finally {
      probe.close();
      pool.shutdownNow();
    }
  }

  /** A NOOP round trip and an AUTH CRAM-MD5 challenge round trip (then cancelled), in ms. */
  private static long[] probeOnce(SmtpTestClient probe) throws IOException {
    long t0 = System.nanoTime();
    assertReply(250, "2.0.0", probe.command("NOOP"));
    long noop = (System.nanoTime() - t0) / 1_000_000;
    long t1 = System.nanoTime();
    Reply challenge = probe.command("AUTH CRAM-MD5");
    long cram = (System.nanoTime() - t1) / 1_000_000;
    assertEquals(334, challenge.code(), challenge.toString());
    assertReply(501, "5.0.0", probe.command("*"));
    return new long[] {noop, cram};
  }
}
