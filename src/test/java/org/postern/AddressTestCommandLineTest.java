package org.postern;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postern.testing.ChildPostern;
import org.postern.testing.ChildPostern.Result;
import org.postern.testing.PosternTestServer;
import org.postern.testing.TestDnsServer;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code postern -bt} in a child JVM: local users and aliases, a manualroute smarthost, and a
 * dnslookup router asking the real test DNS server of this JVM over UDP on loopback.
 */
@Timeout(120)
class AddressTestCommandLineTest {
  private static final String LOCAL = "  router = local_user, transport = maildir";
  private static final String DNSLOOKUP = "  router = dnslookup, transport = remote_smtp";
  private static final String REMOTE_HOSTS = "  host mx1.remote.example [192.0.2.1] \n"
      + "  host mx2.remote.example [192.0.2.20]\n";

  private static TestDnsServer dns;
  private PosternTestServer server;
  private Path config;

  @BeforeAll
  static void startDns() throws Exception {
    dns = TestDnsServer.start()
        .mx("remote.example", 20, "mx2.remote.example").mx("remote.example", 10, "mx1.remote.example")
        .a("mx1.remote.example", "192.0.2.1").a("mx2.remote.example", "192.0.2.20")
        .a("relay.smart.example", "192.0.2.7")
        .mx("nullmx.example", 0, ".").a("nullmx.example", "192.0.2.9")
        .servfail("broken.example");
  }

  @AfterAll
  static void stopDns() throws Exception {
    dns.close();
  }

  @BeforeEach
  void setUp() throws Exception {
    server = PosternTestServer.create()
        .option("dns_servers", "\"" + dns.address() + "\"").option("dns_timeout", "1s").option("dns_retry", "1")
        .option("routers", "[ { name: local_user, driver: local },"
            + " { name: smarthost, driver: manualroute, domains: smart.example,"
            + " route_list: \"* relay.smart.example::2525 : 192.0.2.8\", transport: remote_smtp },"
            + " { name: dnslookup, driver: dnslookup, domains: \"!+local_domains\", transport: remote_smtp } ]")
        .option("transports", "{ remote_smtp: { driver: smtp } }");
    server.aliases("postmaster: admin", "team: alice, bob, carol@remote.example", "loop: loop@test.example");
    config = server.writeConfig();
  }

  @AfterEach
  void tearDown() throws Exception {
    server.close();
  }

  private Result bt(String... addresses) throws Exception {
    String[] args = new String[addresses.length + 1];
    args[0] = "-bt";
    System.arraycopy(addresses, 0, args, 1, addresses.length);
    return ChildPostern.run(server.root(), config, "", args);
  }

  @Test
  void localUsersAndAliasesShowTheirMailboxes() throws Exception {
    Result r = bt("alice@test.example", "postmaster@TEST.example", "bob");
    assertEquals(0, r.exit(), r::toString);
    assertEquals("alice@test.example\n" + LOCAL + "\n"
        + "admin@TEST.example\n    <-- postmaster@TEST.example\n" + LOCAL + "\n"
        + "bob@mx.test.example\n" + LOCAL + "\n", r.stdout(), r::toString);
  }

  @Test
  void anAliasToLocalAndRemoteAddressesShowsEachWithItsParent() throws Exception {
    Result r = bt("team@test.example");
    assertEquals(0, r.exit(), r::toString);
    assertEquals("alice@test.example\n    <-- team@test.example\n" + LOCAL + "\n"
        + "bob@test.example\n    <-- team@test.example\n" + LOCAL + "\n"
        + "carol@remote.example\n    <-- team@test.example\n" + DNSLOOKUP + "\n" + REMOTE_HOSTS,
        r.stdout(), r::toString);
  }

  @Test
  void bvVerifiesAsTheRcptAclDoes() throws Exception {
    Result r = ChildPostern.run(server.root(), config, "", "-bv", "alice@test.example", "postmaster@TEST.example",
        "bob", "nobody@test.example", "anyone@remote.example", "not an address");
    assertEquals(2, r.exit(), r::toString);
    assertEquals("alice@test.example verified\n"
        + "postmaster@TEST.example verified\n"
        + "bob@mx.test.example verified\n"
        + "nobody@test.example failed to verify: Unknown user\n"
        + "anyone@remote.example verified\n"
        + "syntax error: ", r.stdout().substring(0, Math.min(r.stdout().length(), r.stdout().indexOf("syntax error: ") + 14)),
        r::toString);
    Result ok = ChildPostern.run(server.root(), config, "", "-bv", "alice@test.example");
    assertEquals(0, ok.exit(), ok::toString);
  }

  @Test
  void anUnknownLocalUserIsUndeliverable() throws Exception {
    Result r = bt("nobody@test.example");
    assertEquals(2, r.exit(), r::toString);
    assertEquals("nobody@test.example is undeliverable: Unrouteable address\n", r.stdout(), r::toString);
  }

  @Test
  void anAliasBackToItselfIsDiscarded() throws Exception {
    Result r = bt("loop@test.example");
    assertEquals(0, r.exit(), r::toString);
    assertEquals("mail to loop@test.example is discarded\n", r.stdout(), r::toString);
  }

  @Test
  void aSmarthostShowsItsHostsAndAPortOtherThanTheTransports() throws Exception {
    Result r = bt("user@smart.example");
    assertEquals(0, r.exit(), r::toString);
    assertEquals("user@smart.example\n  router = smarthost, transport = remote_smtp\n"
        + "  host relay.smart.example [192.0.2.7] port=2525\n"
        + "  host 192.0.2.8           [192.0.2.8]\n", r.stdout(), r::toString);
  }

  @Test
  void dnslookupListsTheMxHostsInPreferenceOrder() throws Exception {
    Result r = bt("bob@remote.example");
    assertEquals(0, r.exit(), r::toString);
    assertEquals("bob@remote.example\n" + DNSLOOKUP + "\n" + REMOTE_HOSTS, r.stdout(), r::toString);
  }

  @Test
  void aNullMxIsUndeliverable() throws Exception {
    Result r = bt("x@nullmx.example");
    assertEquals(2, r.exit(), r::toString);
    assertEquals("x@nullmx.example is undeliverable: domain does not accept mail\n", r.stdout(), r::toString);
  }

  @Test
  void aServfailCannotBeResolvedNow() throws Exception {
    Result r = bt("x@broken.example");
    assertEquals(1, r.exit(), r::toString);
    assertTrue(r.stdout().startsWith(
        "x@broken.example cannot be resolved at this time: host lookup did not complete: "), r::toString);
    assertEquals(1, r.stdout().lines().count(), r::toString);
  }

  @Test
  void aSyntaxErrorCountsAsAFailure() throws Exception {
    Result r = bt("a b@test.example", "alice@test.example");
    assertEquals(2, r.exit(), r::toString);
    String[] lines = r.stdout().split("\n");
    assertTrue(lines[0].startsWith("syntax error: ") && lines[0].endsWith(" in 'a b@test.example'"), r::toString);
    assertEquals("alice@test.example", lines[1], r::toString);
  }

  @Test
  void theExitStatusIsTheWorstOutcomeAndNothingIsWritten() throws Exception {
    Result deferred = bt("alice@test.example", "x@broken.example", "bob@remote.example");
    assertEquals(1, deferred.exit(), deferred::toString);
    String[] lines = deferred.stdout().split("\n");
    assertEquals("alice@test.example", lines[0], deferred::toString);
    assertTrue(lines[2].startsWith("x@broken.example cannot be resolved at this time: "), deferred::toString);
    assertEquals("bob@remote.example", lines[3], deferred::toString);

    Result failed = bt("x@broken.example", "nobody@test.example", "alice@test.example");
    assertEquals(2, failed.exit(), failed::toString);
    assertTrue(failed.stdout().contains("\nnobody@test.example is undeliverable: Unrouteable address\n"
        + "alice@test.example\n" + LOCAL + "\n"), failed::toString);

    assertFalse(Files.exists(server.root().resolve("spool")), "spool created");
    assertFalse(Files.exists(server.root().resolve("log").resolve("mainlog")), "main log written");
    assertFalse(Files.exists(server.root().resolve("maildir")), "maildir created");
  }
}
