package org.postern.listener;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.postern.testing.MainLogFile;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient;
import org.postern.testing.SmtpTestClient.Reply;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The PROXY protocol at the socket, with the test itself as the load balancer: connections from
 * {@code hosts_proxy} (127.0.0.3) must start with a valid header, which then names the client;
 * from anyone else (127.0.0.2) a PROXY line is an unknown command. (HAProxyTest does the same
 * through a real HAProxy.)
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ProxyProtocolTest {
  private static final String PROXY = "127.0.0.3";
  private static final String OTHER = "127.0.0.2";
  private static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
  private static PosternTestServer server;

  @BeforeAll
  static void start() throws Exception {
    server = PosternTestServer.create()
        .option("hosts_proxy", PROXY)
        .option("proxy_protocol_timeout", "1s")
        // One main-log line per dropped connection: the rate limit is the connection error log's own test.
        .option("connection_error_log_rate", "0")
        .option("tls_on_connect_ports", "\"\"")
        .start();
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }

  /** A v2 PROXY/TCP4 header from 192.0.2.10:40000 to 198.51.100.1:25, the stated length overridable. */
  private static byte[] v2(int statedLength, byte[] tlvs) {
    ByteBuffer b = ByteBuffer.allocate(16 + 12 + tlvs.length);
    b.put(V2_SIGNATURE).put((byte) 0x21).put((byte) 0x11).putShort((short) statedLength)
        .putInt(0xC000020A).putInt(0xC6336401).putShort((short) 40000).putShort((short) 25).put(tlvs);
    return b.array();
  }

  @Test
  void proxyLineFromAHostNotInHostsProxyIsAnUnknownCommand() throws Exception {
    try (SmtpTestClient c = SmtpTestClient.connectFrom(OTHER, server.port())) {
      assertEquals(220, c.reply().code());
      Reply r = c.command("PROXY TCP4 192.0.2.10 198.51.100.1 40000 25");
      assertEquals(500, r.code(), r.toString());
      assertEquals("5.5.1", r.enhanced(), r.toString());
      // The session goes on, still from the real peer: the line changed nothing.
      Reply ehlo = c.command("EHLO other.test.example");
      assertTrue(ehlo.lines().get(0).endsWith("[" + OTHER + "]"), ehlo.toString());
    }
  }

  @Test
  void v1HeaderNamesTheClientAndWhatFollowsItInTheSameSegmentIsNotLost() throws Exception {
    MainLogFile log = MainLogFile.ofTestJvm().fromNow();
    try (SmtpTestClient c = SmtpTestClient.connectFrom(PROXY, server.port())) {
      // Header and a command before the greeting, in one write: the command reaches the session
      // (as input sent too early, smtp_enforce_sync) and from the client the header named.
      c.sendRaw(ascii("PROXY TCP4 192.0.2.10 198.51.100.1 40000 25\r\nEHLO early.test.example\r\n"));
      Reply r = c.reply();
      assertEquals(554, r.code(), r.toString());
      log.await(5000, "input sent without waiting for greeting", "H=[192.0.2.10]");
    }
  }

  @Test
  void v2HeaderNamesTheClientForTheWholeSession() throws Exception {
    try (SmtpTestClient c = SmtpTestClient.connectFrom(PROXY, server.port())) {
      c.sendRaw(v2(12, new byte[0]));
      assertEquals(220, c.reply().code());
      Reply ehlo = c.command("EHLO v2.test.example");
      assertTrue(ehlo.lines().get(0).endsWith("[192.0.2.10]"), ehlo.toString());
    }
  }

  @Test
  void v2LocalAsAHealthCheckSendsItKeepsTheProxyAsTheClient() throws Exception {
    try (SmtpTestClient c = SmtpTestClient.connectFrom(PROXY, server.port())) {
      byte[] local = v2(12, new byte[0]);
      local[12] = 0x20;
      c.sendRaw(local);
      assertEquals(220, c.reply().code());
      Reply ehlo = c.command("EHLO check.test.example");
      assertTrue(ehlo.lines().get(0).endsWith("[" + PROXY + "]"), ehlo.toString());
    }
  }

  @Test
  void proxyHostThatSendsNoHeaderIsDroppedAfterTheTimeoutWithoutAGreeting() throws Exception {
    MainLogFile log = MainLogFile.ofTestJvm().fromNow();
    try (SmtpTestClient c = SmtpTestClient.connectFrom(PROXY, server.port())) {
      String line = log.await(10_000, "Connection from " + c.hostForLog() + " (hosts_proxy) dropped:",
          "no complete PROXY protocol header within proxy_protocol_timeout (1000ms)");
      assertTrue(c.closedByServer(Duration.ofSeconds(5)), "closed, and with not a byte sent: " + line);
    }
  }

  @Test
  void partialHeaderIsDroppedAfterTheTimeout() throws Exception {
    MainLogFile log = MainLogFile.ofTestJvm().fromNow();
    try (SmtpTestClient c = SmtpTestClient.connectFrom(PROXY, server.port())) {
      c.sendRaw(ascii("PROXY TCP4 192.0.2.10 "));
      log.await(10_000, "Connection from " + c.hostForLog() + " (hosts_proxy) dropped:", "proxy_protocol_timeout");
      assertTrue(c.closedByServer(Duration.ofSeconds(5)));
    }
  }

  static Stream<Arguments> malformed() {
    return Stream.of(
        Arguments.of("an SMTP command", ascii("EHLO client.test.example\r\n"), "not a PROXY protocol header"),
        Arguments.of("v1 with a bare LF", ascii("PROXY TCP4 192.0.2.10 198.51.100.1 40000 25\n"), "bare LF"),
        Arguments.of("v1 with two spaces", ascii("PROXY TCP4  192.0.2.10 198.51.100.1 40000 25\r\n"),
            "single spaces"),
        Arguments.of("v1 TCP4 with an IPv6 address", ascii("PROXY TCP4 2001:db8::1 198.51.100.1 40000 25\r\n"),
            "is not an IPv4 address"),
        Arguments.of("v1 port out of range", ascii("PROXY TCP4 192.0.2.10 198.51.100.1 70000 25\r\n"),
            "is not a port number"),
        Arguments.of("v1 longer than 107 bytes", ascii("PROXY UNKNOWN " + "x".repeat(120) + "\r\n"),
            "longer than 107 bytes"),
        Arguments.of("v2 TLV past the header", v2(12 + 4, new byte[] {0x05, 0x00, 0x40, 0x00}),
            "runs past the end of the header"),
        Arguments.of("v2 length shorter than its addresses", v2(8, new byte[0]), "shorter than the 12 bytes"),
        Arguments.of("v2 over the length cap", v2(2000, new byte[0]), "longer than 1024"),
        Arguments.of("v2 bad version", versionByte(v2(12, new byte[0]), 0x11), "version 1"));
  }

  private static byte[] versionByte(byte[] header, int value) {
    header[12] = (byte) value;
    return header;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformed")
  void malformedHeaderClosesTheConnectionWithNoReply(String what, byte[] header, String reason) throws Exception {
    MainLogFile log = MainLogFile.ofTestJvm().fromNow();
    try (SmtpTestClient c = SmtpTestClient.connectFrom(PROXY, server.port())) {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      bytes.writeBytes(header);
      // Whatever follows must not be taken for SMTP either.
      bytes.writeBytes(ascii("MAIL FROM:<a@b.example>\r\n"));
      c.sendRaw(bytes.toByteArray());
      assertTrue(c.closedByServer(Duration.ofSeconds(5)), what + ": not closed, or a reply was sent");
      String line = log.await(5000, "Connection from " + c.hostForLog() + " (hosts_proxy) dropped: malformed PROXY"
          + " protocol header");
      assertTrue(line.contains(reason), line);
    }
  }

  @Test
  void droppedConnectionsAreLoggedWithinConnectionErrorLogRate() throws Exception {
    try (PosternTestServer limited = PosternTestServer.create()
        .option("hosts_proxy", "127.0.0.5")
        .option("connection_error_log_rate", "\"2 / 1m\"")
        .option("tls_on_connect_ports", "\"\"")
        .start()) {
      MainLogFile log = MainLogFile.ofTestJvm().fromNow();
      for (int k = 0; k < 3; k++) {
        try (SmtpTestClient c = SmtpTestClient.connectFrom("127.0.0.5", limited.port())) {
          c.sendRaw(ascii("GET / HTTP/1.0\r\n\r\n"));
          assertTrue(c.closedByServer(Duration.ofSeconds(5)));
        }
      }
      log.await(5000, "Connection errors from [127.0.0.5]: further lines not logged until");
      assertEquals(2, log.lines("Connection from [127.0.0.5]:", "(hosts_proxy) dropped").size(), () -> {
        try {
          return String.join("\n", log.lines("127.0.0.5"));
        } catch (java.io.IOException e) {
          return e.toString();
        }
      });
    }
  }
}
