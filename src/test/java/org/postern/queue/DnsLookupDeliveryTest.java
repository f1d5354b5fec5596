package org.postern.queue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postern.testing.PosternTestServer;
import org.postern.testing.ScriptedServers;
import org.postern.testing.ScriptedSmtpServer;
import org.postern.testing.TestDnsServer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.queue.RelayTesting.assertSpoolEmpty;
import static org.postern.queue.RelayTesting.awaitLog;
import static org.postern.queue.RelayTesting.dnslookup;
import static org.postern.queue.RelayTesting.report;
import static org.postern.queue.RelayTesting.send;

/**
 * The dnslookup router against a real DNS server on UDP: MX order, implicit MX, null MX and
 * NXDOMAIN. Every MX host is on loopback: 127.0.0.1 is the scripted server, 127.0.0.2 has nothing
 * listening on its port (connection refused).
 */
@Timeout(90)
class DnsLookupDeliveryTest {
  private static final String CONTENT = "Subject: mx\r\n\r\nHello.\r\n";
  @RegisterExtension
  static final ScriptedServers REMOTES = new ScriptedServers();

  private static PosternTestServer server(TestDnsServer dns, ScriptedSmtpServer remote) throws Exception {
    return PosternTestServer.create()
        .option("dns_servers", "\"" + dns.address() + "\"").option("dns_timeout", "1s").option("dns_retry", "1")
        .option("routers", dnslookup())
        .option("transports", "{ remote_smtp: { driver: smtp, port: " + remote.port()
            + ", connect_timeout: 5s, command_timeout: 5s } }")
        .start();
  }

  @Test
  void mxHostsAreTriedInPreferenceOrder() throws Exception {
    ScriptedSmtpServer remote = REMOTES.start(ScriptedSmtpServer.create());
    try (TestDnsServer dns = TestDnsServer.start(REMOTES.vertx())
        .mx("remote.example", 20, "mx2.remote.example").mx("remote.example", 10, "mx1.remote.example")
        .a("mx1.remote.example", "127.0.0.2").a("mx2.remote.example", "127.0.0.1");
         PosternTestServer server = server(dns, remote)) {
      String id = send(server, "alice@test.example", CONTENT, "bob@remote.example");
      String line = awaitLog(id, " => bob@remote.example");
      assertTrue(line.contains(" R=dnslookup T=remote_smtp H=mx2.remote.example [127.0.0.1]:" + remote.port() + " "),
          line);
      assertEquals(1, remote.envelopes().size());
      // The first host's failure is in the retry database.
      Path retry = server.root().resolve("spool/db/retry");
      try (var files = Files.list(retry)) {
        List<String> texts = files.map(f -> {
          try {
            return Files.readString(f);
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        }).toList();
        assertEquals(1, texts.size(), texts.toString());
        assertTrue(texts.get(0).contains("T:mx1.remote.example:127.0.0.2:" + remote.port()), texts.get(0));
        assertTrue(texts.get(0).contains("\"error\":\"refused\""), texts.get(0));
      }
      assertSpoolEmpty(server);
    }
  }

  @Test
  void aDomainWithoutMxIsItsOwnMailExchanger() throws Exception {
    ScriptedSmtpServer remote = REMOTES.start(ScriptedSmtpServer.create());
    try (TestDnsServer dns = TestDnsServer.start(REMOTES.vertx()).a("remote.example", "127.0.0.1");
         PosternTestServer server = server(dns, remote)) {
      String id = send(server, "alice@test.example", CONTENT, "bob@remote.example");
      String line = awaitLog(id, " => bob@remote.example");
      assertTrue(line.contains(" H=remote.example [127.0.0.1]:" + remote.port() + " "), line);
      assertEquals(List.of("bob@remote.example"), remote.envelopes().get(0).recipients());
    }
  }

  @Test
  void aNullMxFailsAndBounces() throws Exception {
    ScriptedSmtpServer remote = REMOTES.start(ScriptedSmtpServer.create());
    try (TestDnsServer dns = TestDnsServer.start(REMOTES.vertx()).mx("remote.example", 0, ".")
        .a("remote.example", "127.0.0.1");
         PosternTestServer server = server(dns, remote)) {
      String id = send(server, "alice@test.example", CONTENT, "bob@remote.example");
      assertEquals(id + " ** bob@remote.example R=dnslookup: domain does not accept mail",
          awaitLog(id, " ** ").substring(20));
      List<Path> bounce = server.awaitMailbox("alice", 1, 20_000);
      assertEquals(1, bounce.size());
      RelayTesting.Report r = report(bounce.get(0));
      assertTrue(r.status().contains("Final-Recipient: rfc822; bob@remote.example"), r.status());
      assertTrue(r.status().contains("Status: 5.0.0"), r.status());
      assertTrue(r.text().contains("domain does not accept mail"), r.text());
      assertEquals(0, remote.connections());
      assertSpoolEmpty(server);
    }
  }

  @Test
  void nxdomainFailsAsUnrouteable() throws Exception {
    ScriptedSmtpServer remote = REMOTES.start(ScriptedSmtpServer.create());
    try (TestDnsServer dns = TestDnsServer.start(REMOTES.vertx());
         PosternTestServer server = server(dns, remote)) {
      String id = send(server, "alice@test.example", CONTENT, "bob@nowhere.example");
      awaitLog(id, " ** bob@nowhere.example R=dnslookup: Unrouteable address");
      List<Path> bounce = server.awaitMailbox("alice", 1, 20_000);
      assertEquals(1, bounce.size());
      RelayTesting.Report r = report(bounce.get(0));
      assertEquals("Mail delivery failed: returning message to sender", r.subject());
      assertTrue(r.status().contains("Final-Recipient: rfc822; bob@nowhere.example"), r.status());
      assertTrue(r.text().contains("Unrouteable address"), r.text());
      assertTrue(r.headers().contains("Subject: mx"), r.headers());
    }
  }

  @Test
  void aTemporaryDnsFailureDefers() throws Exception {
    ScriptedSmtpServer remote = REMOTES.start(ScriptedSmtpServer.create());
    try (TestDnsServer dns = TestDnsServer.start(REMOTES.vertx()).servfail("remote.example");
         PosternTestServer server = server(dns, remote)) {
      String id = send(server, "alice@test.example", CONTENT, "bob@remote.example");
      String line = awaitLog(id, " == bob@remote.example R=dnslookup defer: host lookup did not complete");
      assertTrue(server.spoolFiles().contains(id + "-H"), line);
      assertEquals(List.of("bob@remote.example=pending"), RelayTesting.states(server, id));
    }
  }
}
