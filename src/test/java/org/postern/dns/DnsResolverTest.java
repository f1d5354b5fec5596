package org.postern.dns;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.postern.config.ConfigException;
import org.postern.config.ConfigLoader;
import org.postern.config.PosternConfig;
import org.postern.testing.TestDnsServer;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DnsResolver against {@link TestDnsServer} over real UDP on loopback: each record type, the
 * definite "nothing there" answers, and the temporary failures (SERVFAIL, silence) that must end
 * as {@link DnsTemporaryFailure} after every attempt, not hang. Also the dns_* options.
 */
class DnsResolverTest {
  private static final Duration SHORT = Duration.ofMillis(300);

  private Vertx vertx;
  private TestDnsServer dns;

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    dns = TestDnsServer.start(vertx);
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private DnsResolver resolver(int retry, TestDnsServer... servers) {
    List<DnsServerAddress> list = java.util.Arrays.stream(servers)
        .map(s -> new DnsServerAddress("127.0.0.1", s.port())).toList();
    return new DnsResolver(vertx, new DnsSettings(list, SHORT, retry));
  }

  /** Waits far longer than any lookup may take: a hang fails the test instead of blocking it. */
  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  private static Throwable failure(Future<?> f) {
    ExecutionException e = assertThrows(ExecutionException.class, () -> await(f));
    return e.getCause();
  }

  @Test
  void answersEachRecordType() throws Exception {
    dns.a("host.test", "192.0.2.1", "192.0.2.2")
        .aaaa("host.test", "2001:db8::1")
        .txt("host.test", "v=spf1 -all")
        .mx("mail.test", 20, "mx2.mail.test").mx("mail.test", 10, "mx1.mail.test").mx("mail.test", 30, "mx3.mail.test");
    DnsResolver r = resolver(1, dns);
    assertEquals(List.of("192.0.2.1", "192.0.2.2"), await(r.lookupA("host.test")));
    List<String> v6 = await(r.lookupAaaa("host.test"));
    assertEquals(1, v6.size());
    assertEquals(java.net.InetAddress.getByName("2001:db8::1"), java.net.InetAddress.getByName(v6.get(0)));
    assertEquals(List.of("v=spf1 -all"), await(r.lookupTxt("host.test")));
    assertEquals(List.of(new MailExchanger(10, "mx1.mail.test"), new MailExchanger(20, "mx2.mail.test"),
        new MailExchanger(30, "mx3.mail.test")), await(r.lookupMx("mail.test")));
    assertEquals(List.of("host.test", "host.test", "host.test", "mail.test"), dns.queries());
  }

  @Test
  void aNullMxComesBackAsTheRoot() throws Exception {
    dns.mx("nomail.test", 0, ".");
    assertEquals(List.of(new MailExchanger(0, ".")), await(resolver(1, dns).lookupMx("nomail.test")));
  }

  @Test
  void longTxtRecordsComeBackAsTheirCharacterStrings() throws Exception {
    dns.txt("long.test", "x".repeat(255) + "y".repeat(45));
    assertEquals(List.of("x".repeat(255), "y".repeat(45)), await(resolver(1, dns).lookupTxt("long.test")));
  }

  @Test
  void nxdomainAndNoDataAreEmptyAnswersAskedOnce() throws Exception {
    dns.a("only-a.test", "192.0.2.1");
    DnsResolver r = resolver(2, dns);
    assertEquals(List.of(), await(r.lookupA("missing.test")));
    assertEquals(List.of(), await(r.lookupMx("missing.test")));
    assertEquals(List.of(), await(r.lookupTxt("only-a.test")));
    assertEquals(List.of(), await(r.lookupAaaa("only-a.test")));
    // A definite answer is final: no retry.
    assertEquals(List.of("missing.test", "missing.test", "only-a.test", "only-a.test"), dns.queries());
  }

  @Test
  void servfailIsATemporaryFailureAfterEveryAttempt() throws Exception {
    dns.a("broken.test", "192.0.2.1").servfail("broken.test");
    Throwable e = failure(resolver(2, dns).lookupA("broken.test"));
    DnsTemporaryFailure t = assertInstanceOf(DnsTemporaryFailure.class, e);
    assertEquals("broken.test", t.name());
    assertTrue(t.getMessage().contains("SERVFAIL"), t.getMessage());
    assertEquals(List.of("broken.test", "broken.test"), dns.queries());
  }

  @Test
  void silenceTimesOutAsATemporaryFailure() throws Exception {
    dns.a("slow.test", "192.0.2.1").silent("slow.test");
    Throwable e = failure(resolver(2, dns).lookupA("slow.test"));
    DnsTemporaryFailure t = assertInstanceOf(DnsTemporaryFailure.class, e);
    assertTrue(t.getMessage().contains("timeout"), t.getMessage());
    assertEquals(List.of("slow.test", "slow.test"), dns.queries());
  }

  @Test
  void theNextServerAnswersWhenTheFirstIsSilent() throws Exception {
    try (TestDnsServer second = TestDnsServer.start(vertx)) {
      dns.a("host.test", "192.0.2.1").silent("host.test");
      second.a("host.test", "192.0.2.9");
      assertEquals(List.of("192.0.2.9"), await(resolver(1, dns, second).lookupA("host.test")));
      assertEquals(List.of("host.test"), dns.queries());
      assertEquals(List.of("host.test"), second.queries());
    }
  }

  @Test
  void resolversAreSharedPerSettings() {
    DnsSettings settings = new DnsSettings(List.of(new DnsServerAddress("127.0.0.1", dns.port())), SHORT, 1);
    DnsSettings other = new DnsSettings(List.of(new DnsServerAddress("127.0.0.1", dns.port())), SHORT, 2);
    DnsResolver first = DnsResolvers.of(vertx, settings);
    assertSame(first, DnsResolvers.of(vertx, new DnsSettings(settings.servers(), SHORT, 1)));
    assertNotSame(first, DnsResolvers.of(vertx, other));
  }

  // --- configuration -------------------------------------------------------------------------

  private static final Path CONFIG_FILE = Path.of("/postern-dns-test/conf/postern.yaml").toAbsolutePath();

  private static PosternConfig config(String main) throws ConfigException {
    List<Path> files = ConfigLoader.files(CONFIG_FILE);
    Map<Path, String> texts = new LinkedHashMap<>();
    texts.put(files.get(0), "primary_hostname: mx.test.example\n" + main);
    texts.put(files.get(1), "");
    return ConfigLoader.parse(CONFIG_FILE, texts);
  }

  @Test
  void settingsFromPosternYaml() throws Exception {
    DnsSettings s = config("dns_servers: \"127.0.0.1:5353, 192.0.2.53 [::1]:54 2001:db8::53\"\n"
        + "dns_timeout: 1500ms\ndns_retry: 3\n").dns();
    assertEquals(List.of(new DnsServerAddress("127.0.0.1", 5353), new DnsServerAddress("192.0.2.53", 53),
        new DnsServerAddress("::1", 54), new DnsServerAddress("2001:db8::53", 53)), s.servers());
    assertEquals(Duration.ofMillis(1500), s.timeout());
    assertEquals(3, s.retry());
    assertEquals(12, s.attempts());
    assertEquals(Duration.ofMillis(30000), s.bound());

    DnsSettings seq = config("dns_servers:\n  - 127.0.0.1:5353\n  - \"[::1]\"\n").dns();
    assertEquals(List.of(new DnsServerAddress("127.0.0.1", 5353), new DnsServerAddress("::1", 53)), seq.servers());
    assertEquals(DnsSettings.DEFAULT_TIMEOUT, seq.timeout());
    assertEquals(DnsSettings.DEFAULT_RETRY, seq.retry());

    // Without dns_servers, the system's resolvers: whatever they are, there is at least one.
    assertTrue(!config("").dns().servers().isEmpty());
  }

  @Test
  void resolvConfNameServers() {
    assertEquals(List.of(new DnsServerAddress("192.0.2.53", 53), new DnsServerAddress("2001:db8::1", 53)),
        DnsSettings.fromResolvConf("# comment\nsearch example.org\nnameserver 192.0.2.53\n"
            + "nameserver fe80::1%eth0\nnameserver 2001:db8::1\noptions ndots:2\n"));
    assertEquals(List.of(new DnsServerAddress("127.0.0.1", 53)), DnsSettings.fromResolvConf("search example.org\n"));
    assertEquals(List.of(new DnsServerAddress("127.0.0.1", 53)), DnsSettings.fromResolvConf(""));
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "dns_servers: ns.example.org|dns_servers: not an IP address: \"ns.example.org\"",
      "dns_servers: 127.0.0.1:99999|dns_servers: port out of range: 99999",
      "dns_servers: 127.0.0.1:x|dns_servers: not a port in \"127.0.0.1:x\"",
      "dns_servers: \"[::1\"|dns_servers: missing ] in \"[::1\"",
      "dns_servers: \"[::1]53\"|dns_servers: expected [address]:port, got \"[::1]53\"",
      "dns_servers: \"\"|dns_servers: no name server given",
      "dns_servers: 300.0.0.1|dns_servers: not an IP address: \"300.0.0.1\"",
      "dns_timeout: 5x|dns_timeout: not a time: \"5x\" (use e.g. 30s, 5m, 1h30m, 2d)",
      "dns_timeout: 0s|dns_timeout: must be longer than 0s",
      "dns_retry: 0|dns_retry: must be between 1 and 10, got 0",
      "dns_retry: two|dns_retry: not a number: \"two\"",
  })
  void badOptionsNameFileLineAndOption(String line, String expected) {
    ConfigException e = assertThrows(ConfigException.class, () -> config("smtp_banner: hello\n" + line + "\n"));
    assertEquals(CONFIG_FILE.toString().replace("postern.yaml", "") + "postern.yaml:3: " + expected,
        e.getMessage().replaceFirst("^.*?postern\\.yaml", CONFIG_FILE.toString()));
    assertEquals(3, e.line());
  }
}
