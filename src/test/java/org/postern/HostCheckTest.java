package org.postern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postern.testing.ChildPostern;
import org.postern.testing.ChildPostern.Result;
import org.postern.testing.PosternTestServer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code postern -bh IP} (Exim's host checking) in a child JVM: real replies on stdout, every ACL
 * decision on stderr, nothing delivered, spooled or written to the main log.
 */
class HostCheckTest {
  private static final String SESSION = "EHLO client.example\r\nMAIL FROM:<a@b.example>\r\n"
      + "RCPT TO:<x@remote.example>\r\nRCPT TO:<alice@test.example>\r\nRCPT TO:<nobody@test.example>\r\n"
      + "DATA\r\nSubject: bh\r\n\r\nhello\r\n.\r\nQUIT\r\n";

  private PosternTestServer server;
  private Path config;

  @BeforeEach
  void setUp() throws Exception {
    server = PosternTestServer.create();
    config = server.writeConfig();
  }

  @AfterEach
  void tearDown() throws Exception {
    server.close();
  }

  private Result bh(String address) throws Exception {
    return ChildPostern.run(server.root(), config, SESSION.getBytes(StandardCharsets.US_ASCII), "-bh", address);
  }

  private static List<String> replies(Result r) {
    return r.stdout().lines().filter(l -> l.matches("\\d{3}[ -].*")).toList();
  }

  @Test
  void foreignHostIsRefusedRelayingAndTheDecisionsAreTraced() throws Exception {
    Result r = bh("192.0.2.1");
    assertEquals(0, r.exit(), r::toString);
    List<String> lines = replies(r);
    assertTrue(lines.contains("250-mx.test.example Hello client.example [192.0.2.1]"), r::toString);
    assertTrue(lines.contains("550 5.7.1 relay not permitted"), r::toString);
    assertTrue(lines.contains("550 5.1.1 <nobody@test.example>: Unknown user"), r::toString);
    assertTrue(lines.stream().anyMatch(l -> l.startsWith("250 2.0.0 OK id=")), r::toString);
    assertTrue(lines.get(lines.size() - 1).startsWith("221 "), r::toString);
    assertTrue(r.stderr().contains(">>>   hosts = +relay_from_hosts => false"), r::toString);
    assertTrue(r.stderr().contains(">>> rcpt ACL (acl_check_rcpt): deny \"relay not permitted\""), r::toString);
    assertTrue(r.stderr().contains(">>> rcpt ACL (acl_check_rcpt): accept"), r::toString);
    assertTrue(r.stderr().contains("not kept or delivered"), r::toString);
    assertNothingKept();
  }

  @Test
  void relayHostMayRelay() throws Exception {
    Result r = bh("127.0.0.1");
    assertEquals(0, r.exit(), r::toString);
    assertTrue(replies(r).stream().noneMatch(l -> l.contains("relay not permitted")), r::toString);
    assertTrue(r.stderr().contains(">>>   hosts = +relay_from_hosts => true"), r::toString);
    assertNothingKept();
  }

  @Test
  void etrnIsCheckedButStartsNoQueueRun() throws Exception {
    String session = "EHLO client.example\r\nETRN example.org\r\nETRN #q\r\nQUIT\r\n";
    Result relay = ChildPostern.run(server.root(), config, session.getBytes(StandardCharsets.US_ASCII),
        "-bh", "127.0.0.1");
    assertEquals(0, relay.exit(), relay::toString);
    assertTrue(replies(relay).contains("250 2.0.0 Host checking: no queue run for node example.org"), relay::toString);
    assertTrue(replies(relay).contains("459 4.5.0 Node #q not allowed: queue names are not supported"),
        relay::toString);
    assertTrue(relay.stderr().contains(">>> etrn ACL (acl_check_etrn): accept"), relay::toString);
    Result foreign = ChildPostern.run(server.root(), config, session.getBytes(StandardCharsets.US_ASCII),
        "-bh", "192.0.2.1");
    assertTrue(replies(foreign).contains("458 4.7.1 Administrative prohibition"), foreign::toString);
    assertNothingKept();
  }

  @Test
  void ipv6AddressIsAccepted() throws Exception {
    Result r = bh("2001:db8::1");
    assertEquals(0, r.exit(), r::toString);
    assertTrue(replies(r).contains("550 5.7.1 relay not permitted"), r::toString);
  }

  @Test
  void badAddressExitsWithTwoAndAClearMessage() throws Exception {
    Result r = bh("300.1.2.3");
    assertEquals(2, r.exit(), r::toString);
    assertTrue(r.stderr().contains("-bh: not an IP address (with an optional .port): \"300.1.2.3\""), r::toString);
    assertEquals("", r.stdout().strip(), r::toString);
  }

  @Test
  void interfaceAddressPortAndHostNameComeFromOMiAndOMs() throws Exception {
    server.acl("acl_check_rcpt:\n"
        + "  - deny: { hosts: \"*.trusted.example\", message: \"name $sender_host_name port $sender_host_port"
        + " via $interface_address.$interface_port\" }\n"
        + "  - deny: { message: \"no name\" }\n"
        + "acl_check_expn:\n  - deny:\nacl_check_etrn:\n  - deny:\n");
    String session = "EHLO client.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<alice@test.example>\r\nQUIT\r\n";
    Result named = ChildPostern.run(server.root(), config, session.getBytes(StandardCharsets.US_ASCII),
        "-bh", "192.0.2.7.4321", "-oMi", "198.51.100.1.587", "-oMs", "mx.trusted.example");
    assertEquals(0, named.exit(), named::toString);
    assertTrue(replies(named).contains("550 5.7.1 name mx.trusted.example port 4321 via 198.51.100.1.587"),
        named::toString);
    Result unnamed = ChildPostern.run(server.root(), config, session.getBytes(StandardCharsets.US_ASCII),
        "-bh", "192.0.2.7");
    assertTrue(replies(unnamed).contains("550 5.7.1 no name"), unnamed::toString);

    Result badInterface = ChildPostern.run(server.root(), config, session.getBytes(StandardCharsets.US_ASCII),
        "-bh", "192.0.2.7", "-oMi", "nowhere");
    assertEquals(2, badInterface.exit(), badInterface::toString);
    assertTrue(badInterface.stderr().contains("-oMi: not an IP address"), badInterface::toString);
    Result badName = ChildPostern.run(server.root(), config, session.getBytes(StandardCharsets.US_ASCII),
        "-bh", "192.0.2.7", "-oMs", "bad name!");
    assertEquals(2, badName.exit(), badName::toString);
    assertTrue(badName.stderr().contains("-oMs: not a host name"), badName::toString);
  }

  @Test
  void hostInHostsProxyStartsWithAProxyHeaderOnStdinAndTheAclsSeeTheClient() throws Exception {
    server.option("hosts_proxy", "192.0.2.99").acl("acl_check_rcpt:\n"
        + "  - deny: { message: \"client $sender_host_address:$sender_host_port proxy $proxy_session"
        + " $proxy_local_address $proxy_external_address:$proxy_external_port\" }\n"
        + "acl_check_expn:\n  - deny:\nacl_check_etrn:\n  - deny:\n");
    Path proxied = server.writeConfig();
    String session = "PROXY TCP4 198.51.100.5 203.0.113.1 40000 25\r\nEHLO client.example\r\n"
        + "MAIL FROM:<a@b.example>\r\nRCPT TO:<alice@test.example>\r\nQUIT\r\n";
    Result r = ChildPostern.run(server.root(), proxied, session.getBytes(StandardCharsets.US_ASCII),
        "-bh", "192.0.2.99");
    assertEquals(0, r.exit(), r::toString);
    assertTrue(replies(r).contains("250-mx.test.example Hello client.example [198.51.100.5]"), r::toString);
    assertTrue(replies(r).contains("550 5.7.1 client 198.51.100.5:40000 proxy yes 192.0.2.99 203.0.113.1:25"),
        r::toString);
    assertTrue(r.stderr().contains(">>> PROXY v1 header: $sender_host_address=198.51.100.5"), r::toString);

    // Without a header (a direct client's first line), nothing is said and the session is dropped.
    Result bare = ChildPostern.run(server.root(), proxied, "EHLO client.example\r\nQUIT\r\n", "-bh", "192.0.2.99");
    assertEquals("", bare.stdout().strip(), bare::toString);
    assertTrue(bare.stderr().contains(">>> malformed PROXY protocol header: not a PROXY protocol header"),
        bare::toString);
    // Any other host: a PROXY line is an unknown command, and $proxy_session is "no".
    Result other = ChildPostern.run(server.root(), proxied, session.getBytes(StandardCharsets.US_ASCII),
        "-bh", "192.0.2.1");
    assertTrue(replies(other).contains("500 5.5.1 Unrecognized command"), other::toString);
    assertTrue(replies(other).contains("550 5.7.1 client 192.0.2.1:0 proxy no  :0"), other::toString);
    assertNothingKept();
  }

  /** BDAT through the fake session: chunks read exactly, the same replies as for real, nothing kept. */
  @Test
  void bdatChunksAreCheckedAndNothingIsKept() throws Exception {
    String session = "EHLO client.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<alice@test.example>\r\n"
        + "BDAT 13\r\nSubject: bh\r\nBDAT 15 LAST\r\n\r\n.\r\nQUIT\r\nhi\r\nQUIT\r\n";
    Result r = ChildPostern.run(server.root(), config, session.getBytes(StandardCharsets.US_ASCII), "-bh", "192.0.2.1");
    assertEquals(0, r.exit(), r::toString);
    List<String> lines = replies(r);
    assertTrue(lines.contains("250-CHUNKING"), r::toString);
    assertTrue(lines.contains("250 2.0.0 13 byte chunk received"), r::toString);
    assertTrue(lines.get(lines.size() - 2).startsWith("250 2.0.0 OK id="), r::toString);
    assertTrue(lines.get(lines.size() - 1).startsWith("221 "), "the QUIT in the chunk was data: " + r);
    assertEquals(1, lines.stream().filter(l -> l.startsWith("221 ")).count(), r::toString);
    assertTrue(r.stderr().contains("not kept or delivered"), r::toString);
    assertNothingKept();
  }

  private void assertNothingKept() throws Exception {
    assertEquals(List.of(), server.mailbox("alice"));
    assertEquals(List.of(), server.spoolFiles());
    Path mainlog = server.root().resolve("log").resolve("mainlog");
    assertTrue(!java.nio.file.Files.exists(mainlog) || !java.nio.file.Files.readString(mainlog).contains("<="),
        "-bh must not log arrivals in the real main log");
  }
}
