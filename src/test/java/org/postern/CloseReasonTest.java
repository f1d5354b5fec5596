package org.postern;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postern.cli.VerticleDeployer;
import org.postern.testing.MainLogFile;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient.Reply;
import org.postern.testing.TestPki;
import org.postern.testing.TlsSmtp;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code $reason} in the notquit ACL is why the session really ended, spelled as Exim's
 * {@code $smtp_notquit_reason}: each ending a real client can provoke, with the notquit ACL
 * logging the reason and the client's port, and the test waiting for that main-log line.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CloseReasonTest {
  private static final String ACL = """
      acl_notquit:
        - accept: { log_message: "notquit [$sender_host_address]:$sender_host_port reason=$reason" }
      acl_connect:
        - drop:   { hosts: 127.0.0.3, message: "go away" }
        - accept: { hosts: "*" }
      acl_rcpt:
        - drop:   { local_parts: drop, message: "dropped" }
        - accept: { domains: +local_domains }
      """;
  private static PosternTestServer server;

  @BeforeAll
  static void start() throws Exception {
    TestPki pki = TestPki.shared();
    server = withNotQuitAcl()
        .option("smtp_receive_timeout", "2s")
        .option("smtp_max_unknown_commands", "1");
    Path certs = server.root().resolve("certs");
    TestPki.ServerFiles files = pki.writeServer(certs, "server", pki.server());
    server.option("tls_certificate", "\"" + files.certificate().toAbsolutePath() + "\"")
        .option("tls_privatekey", "\"" + files.key().toAbsolutePath() + "\"")
        .option("tls_directory", "../tls").option("tls_on_connect_ports", "\"\"").start();
  }

  /** A server whose notquit ACL logs {@code $reason}, whose connect ACL drops 127.0.0.3 and rcpt ACL {@code drop@}. */
  private static PosternTestServer withNotQuitAcl() throws Exception {
    return PosternTestServer.create().acl(ACL).withoutOption("acl_smtp_expn").withoutOption("acl_smtp_etrn")
        .option("acl_smtp_notquit", "acl_notquit")
        .option("acl_smtp_connect", "acl_connect")
        .option("acl_smtp_rcpt", "acl_rcpt");
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  /** The client's end as the notquit ACL logs it; taken while the socket is open. */
  private static String where(TlsSmtp c) {
    return "[" + c.rawSocket().getLocalAddress().getHostAddress() + "]:" + c.localPort();
  }

  private static String awaitReason(String where) throws Exception {
    String line = MainLogFile.ofTestJvm().await(15_000, "notquit " + where + " reason=");
    return line.substring(line.indexOf("reason=") + "reason=".length()).strip();
  }

  @Test
  void clientGoneWithoutQuitIsConnectionLost() throws Exception {
    TlsSmtp c = TlsSmtp.connect(server.port());
    c.ehlo("client.test.example");
    String where = where(c);
    c.close();
    assertEquals("connection-lost", awaitReason(where));
  }

  @Test
  void clientGoneInsideDataIsConnectionLost() throws Exception {
    TlsSmtp c = TlsSmtp.connect(server.port());
    c.ehlo("client.test.example");
    assertEquals(250, c.command("MAIL FROM:<a@test.example>").code());
    assertEquals(250, c.command("RCPT TO:<alice@test.example>").code());
    assertEquals(354, c.command("DATA").code());
    c.send("Subject: half\r\n\r\nno final dot");
    String where = where(c);
    c.close();
    assertEquals("connection-lost", awaitReason(where));
  }

  @Test
  void idleClientIsCommandTimeout() throws Exception {
    TlsSmtp c = TlsSmtp.connect(server.port());
    c.ehlo("client.test.example");
    Reply bye = c.reply();
    assertEquals(421, bye.code(), bye.toString());
    assertEquals("command-timeout", awaitReason(where(c)));
    c.close();
  }

  @Test
  void contentStoppingMidwayIsDataTimeout() throws Exception {
    TlsSmtp c = TlsSmtp.connect(server.port());
    c.ehlo("client.test.example");
    assertEquals(250, c.command("MAIL FROM:<a@test.example>").code());
    assertEquals(250, c.command("RCPT TO:<alice@test.example>").code());
    assertEquals(354, c.command("DATA").code());
    c.send("Subject: stalled\r\n\r\n");
    Reply bye = c.reply();
    assertEquals(421, bye.code(), bye.toString());
    assertEquals("data-timeout", awaitReason(where(c)));
    c.close();
  }

  @Test
  void aclDropIsAclDrop() throws Exception {
    TlsSmtp c = TlsSmtp.connect(server.port());
    c.ehlo("client.test.example");
    assertEquals(250, c.command("MAIL FROM:<a@test.example>").code());
    Reply r = c.command("RCPT TO:<drop@test.example>");
    assertEquals(550, r.code(), r.toString());
    assertTrue(c.closedByServer(5000), "drop closes the connection");
    assertEquals("acl-drop", awaitReason(where(c)));
    c.close();
  }

  /** Exim runs the notquit ACL after a drop at connect too (not after a deny there). */
  @Test
  void dropAtConnectIsAclDrop() throws Exception {
    TlsSmtp c = TlsSmtp.open("127.0.0.3", server.port());
    Reply r = c.reply();
    assertEquals(554, r.code(), r.toString());
    assertTrue(c.closedByServer(5000), "drop closes the connection");
    assertEquals("acl-drop", awaitReason(where(c)));
    c.close();
  }

  @Test
  void unknownCommandsPastTheLimitAreBadCommands() throws Exception {
    TlsSmtp c = TlsSmtp.connect(server.port());
    assertEquals(500, c.command("XYZZY").code());
    Reply r = c.command("XYZZY");
    assertEquals(421, r.code(), r.toString());
    assertTrue(c.closedByServer(5000));
    assertEquals("bad-commands", awaitReason(where(c)));
    c.close();
  }

  /** HELO (no PIPELINING) ends a group: a second command in the same write is a synchronization error. */
  @Test
  void pipeliningWithoutEhloIsSynchronizationError() throws Exception {
    TlsSmtp c = TlsSmtp.connect(server.port());
    c.send("HELO client.test.example\r\nNOOP\r\n");
    Reply r = c.reply();
    assertEquals(554, r.code(), r.toString());
    assertTrue(c.closedByServer(5000));
    assertEquals("synchronization-error", awaitReason(where(c)));
    c.close();
  }

  /** A stopping server says 421 to its clients and tells their sessions: signal-exit, as Exim on SIGTERM. */
  @Test
  void serverShutdownIsSignalExit() throws Exception {
    try (PosternTestServer stopping = withNotQuitAcl().start()) {
      TlsSmtp c = TlsSmtp.connect(stopping.port());
      c.ehlo("client.test.example");
      VerticleDeployer.undeploy(stopping.vertx()).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      Reply bye = c.reply();
      assertEquals(421, bye.code(), bye.toString());
      assertEquals("4.3.2", bye.enhanced());
      assertEquals("signal-exit", awaitReason(where(c)));
      c.close();
    }
  }

  /** Exim's tls-failed: the handshake after STARTTLS failed and the client went away. */
  @Test
  void clientGoneAfterAFailedHandshakeIsTlsFailed() throws Exception {
    TlsSmtp c = TlsSmtp.connect(server.port());
    c.ehlo("client.test.example");
    assertEquals(220, c.command("STARTTLS").code());
    c.sendPlaintext("this is not a TLS ClientHello\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    String where = where(c);
    c.close();
    assertEquals("tls-failed", awaitReason(where));
  }
}
