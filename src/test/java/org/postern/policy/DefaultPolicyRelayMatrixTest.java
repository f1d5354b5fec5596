package org.postern.policy;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.postern.spool.Envelope;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient.Reply;
import org.postern.testing.TestPki;
import org.postern.testing.TlsSmtp;

import javax.net.ssl.SSLContext;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shipped acl.yaml and postern.yaml never make an open relay: every combination of client
 * address (relay hosts 127.0.0.1 and ::1, foreign 127.0.0.2 and 127.0.0.3), authentication (none,
 * AUTH PLAIN after STARTTLS, a failed AUTH), sender and recipient form (including the classic relay
 * tricks: percent hack, source route, quoted local part, bang path, trailing dot, domain literal,
 * odd case) gets the RCPT reply Exim's default configuration would give, and after the session
 * nothing for a remote domain from a foreign unauthenticated client is in the spool.
 *
 * <p>With the shipped configuration and {@code primary_hostname: mx.test.example}, the local
 * domains are {@code localhost} and {@code mx.test.example} ("@"); alice is a local user.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DefaultPolicyRelayMatrixTest {
  private static final String LOCAL = "mx.test.example";
  private static final String PASSWORD = "matrix-Secret-4e1b";

  /** What the default policy must answer for a recipient. */
  enum Expect {
    /** A real local mailbox: accepted from anyone. */
    LOCAL_USER,
    /** An address at a local domain with no such user: 550 5.1.1 from anyone. */
    UNKNOWN_LOCAL,
    /** A remote domain: accepted from relay hosts and authenticated clients, else 550 5.7.1. */
    RELAY,
    /** Not a valid address under Exim's defaults: 501 from anyone. */
    SYNTAX
  }

  /** One recipient form and the policy's answer. */
  record Recipient(String address, Expect expect) {
    @Override
    public String toString() {
      return "<" + address + ">";
    }
  }

  static final List<Recipient> RECIPIENTS = List.of(
      new Recipient("alice@" + LOCAL, Expect.LOCAL_USER),
      new Recipient("nobody@" + LOCAL, Expect.UNKNOWN_LOCAL),
      new Recipient("x@remote.example", Expect.RELAY),
      // Percent hack: Exim without percent_hack_domains takes "alice%remote.example" as a local part.
      new Recipient("alice%remote.example@" + LOCAL, Expect.UNKNOWN_LOCAL),
      // RFC 5321 4.1.2: a source route is accepted and ignored; what is left is a remote address.
      new Recipient("@" + LOCAL + ":x@remote.example", Expect.RELAY),
      // A quoted local part containing @ is a local part, not an address to re-parse.
      new Recipient("\"x@remote.example\"@" + LOCAL, Expect.UNKNOWN_LOCAL),
      // Bang path: just a local part with "!" in it.
      new Recipient("remote.example!x@" + LOCAL, Expect.UNKNOWN_LOCAL),
      // Exim without strip_trailing_dot: a trailing dot on a domain is a syntax error.
      new Recipient("alice@" + LOCAL + ".", Expect.SYNTAX),
      // Departure from Exim, whose default (allow_domain_literals false) answers 501: Postern has no
      // such option and takes a literal as a domain that is not local ("@[]" is not in the shipped
      // local_domains), so it is a relay attempt, refused like any other. Never local, never open.
      new Recipient("alice@[127.0.0.1]", Expect.RELAY),
      new Recipient("ALICE@" + LOCAL.toUpperCase(Locale.ROOT), Expect.LOCAL_USER),
      new Recipient("x@Remote.EXAMPLE", Expect.RELAY));

  enum Auth { NONE, AUTHENTICATED, FAILED }

  private static PosternTestServer server;
  private static SSLContext tls;

  @BeforeAll
  static void start() throws Exception {
    tls = TestPki.shared().clientContext();
    server = PosternTestServer.create();
    Path certs = server.root().resolve("certs");
    TestPki pki = TestPki.shared();
    TestPki.ServerFiles files = pki.writeServer(certs, "server", pki.server());
    server.shippedMainConfig()
        .users("admin:", "alice:{PLAIN}" + PASSWORD, "bob:{PLAIN}bob-" + PASSWORD)
        .option("listeners", "{ smtp: { address: 127.0.0.1, port: 0 }, smtp6: { address: \"::1\", port: 0 } }")
        .option("tls_certificate", "\"" + files.certificate() + "\"")
        .option("tls_privatekey", "\"" + files.key() + "\"")
        .option("tls_directory", "../tls")
        .option("tls_on_connect_ports", "\"\"")
        // Not policy: only the waiting before each 535, which would make the matrix slow.
        .option("smtp_auth_failure_delay", "0s")
        .start();
    // The shipped ACL, byte for byte (PosternTestServer copies it; this proves the copy is current).
    assertEquals(Files.readString(Path.of("conf", "acl.yaml")), Files.readString(server.confDir().resolve("acl.yaml")));
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  static Stream<Arguments> sessions() {
    List<Arguments> out = new ArrayList<>();
    for (String ip : List.of("127.0.0.1", "::1", "127.0.0.2", "127.0.0.3")) {
      for (Auth auth : Auth.values()) {
        for (String sender : List.of("", "alice@" + LOCAL, "someone@remote.example", "ceo@" + LOCAL.toUpperCase(Locale.ROOT))) {
          out.add(Arguments.of(ip, auth, sender));
        }
      }
    }
    return out.stream();
  }

  private static boolean relayHost(String ip) {
    return ip.equals("127.0.0.1") || ip.equals("::1");
  }

  /** The reply Exim's default configuration gives: code and enhanced code. */
  private static String expected(Recipient r, String ip, Auth auth) {
    return switch (r.expect()) {
      case LOCAL_USER -> "250 2.1.5";
      case UNKNOWN_LOCAL -> "550 5.1.1";
      case RELAY -> relayHost(ip) || auth == Auth.AUTHENTICATED ? "250 2.1.5" : "550 5.7.1";
      case SYNTAX -> "501 5.1.3";
    };
  }

  @ParameterizedTest(name = "from {0}, auth {1}, sender <{2}>")
  @MethodSource("sessions")
  void everyRecipientGetsTheDefaultPolicysAnswer(String ip, Auth auth, String sender) throws Exception {
    String subject = "matrix " + ip + " " + auth + " <" + sender + "> " + System.nanoTime();
    List<Executable> checks = new ArrayList<>();
    List<Recipient> accepted = new ArrayList<>();
    String id;
    try (TlsSmtp c = TlsSmtp.open(ip, ip.contains(":") ? "::1" : "127.0.0.1",
        server.port(ip.contains(":") ? "smtp6" : "smtp"))) {
      TlsSmtp.expect(220, c.reply());
      c.ehlo("client.example");
      authenticate(c, auth);
      Reply mail = c.command("MAIL FROM:<" + sender + ">");
      assertEquals(250, mail.code(), "MAIL: " + mail);
      for (Recipient r : RECIPIENTS) {
        Reply reply = c.command("RCPT TO:<" + r.address() + ">");
        String got = reply.code() + " " + reply.enhanced();
        String want = expected(r, ip, auth);
        checks.add(() -> assertEquals(want, got, r + " from " + ip + " auth " + auth + ": " + reply));
        if (reply.code() == 250) {
          accepted.add(r);
        }
      }
      id = accepted.isEmpty() ? null : data(c, sender, subject);
      c.command("QUIT");
    }
    assertAll(checks);
    assertFalse(accepted.isEmpty(), "alice is always accepted");
    assertSpoolHoldsOnlyWhatMayBeRelayed(id, ip, auth, subject);
  }

  private static void authenticate(TlsSmtp c, Auth auth) throws Exception {
    if (auth == Auth.NONE) {
      return;
    }
    c.startTls(tls);
    c.ehlo("client.example");
    String password = auth == Auth.AUTHENTICATED ? PASSWORD : "wrong-" + PASSWORD;
    Reply r = c.command("AUTH PLAIN " + Base64.getEncoder()
        .encodeToString(("\0alice\0" + password).getBytes(StandardCharsets.UTF_8)));
    assertEquals(auth == Auth.AUTHENTICATED ? 235 : 535, r.code(), "AUTH: " + r);
  }

  private static String data(TlsSmtp c, String sender, String subject) throws Exception {
    TlsSmtp.expect(354, c.command("DATA"));
    Reply r = c.command("From: <" + sender + ">\r\nSubject: " + subject + "\r\n\r\nmatrix\r\n.");
    assertEquals(250, r.code(), "end of data: " + r);
    String text = r.text();
    return text.substring(text.indexOf("id=") + 3).strip();
  }

  /**
   * Once local delivery is done, what stays in the spool for the message is the remote recipients
   * only, and only when the client was allowed to relay; alice got the message.
   */
  private static void assertSpoolHoldsOnlyWhatMayBeRelayed(String id, String ip, Auth auth, String subject)
      throws Exception {
    assertTrue(awaitDelivered("alice", subject, 10_000), "alice's copy of " + id + " was not delivered");
    for (String other : List.of("admin", "bob")) {
      assertFalse(delivered(other, subject), id + " was delivered to " + other + " by mistake");
    }
    Path envelope = server.spoolInput().resolve(id + "-H");
    List<String> remote = new ArrayList<>();
    long end = System.currentTimeMillis() + 10_000;
    while (true) {
      remote.clear();
      boolean localPending = false;
      if (Files.exists(envelope)) {
        Envelope e = Envelope.fromJson(new JsonObject(Files.readString(envelope)));
        for (Envelope.Recipient r : e.recipients()) {
          boolean local = r.domain().equalsIgnoreCase(LOCAL) || r.domain().equalsIgnoreCase("localhost");
          if (!local) {
            remote.add(r.address());
          } else if (r.state() == Envelope.Recipient.State.PENDING) {
            localPending = true;
          }
        }
      }
      if (!localPending || System.currentTimeMillis() > end) {
        break;
      }
      Thread.sleep(20);
    }
    if (relayHost(ip) || auth == Auth.AUTHENTICATED) {
      assertEquals(List.of("x@remote.example", "x@remote.example", "alice@[127.0.0.1]", "x@Remote.EXAMPLE"), remote,
          "the relayed recipients wait in the spool for remote delivery");
    } else {
      assertEquals(List.of(), remote, "OPEN RELAY: a foreign unauthenticated client got remote recipients spooled");
    }
  }

  private static boolean awaitDelivered(String user, String subject, long millis) throws Exception {
    long end = System.currentTimeMillis() + millis;
    while (!delivered(user, subject)) {
      if (System.currentTimeMillis() > end) {
        return false;
      }
      Thread.sleep(20);
    }
    return true;
  }

  private static boolean delivered(String user, String subject) throws Exception {
    for (Path p : server.mailbox(user)) {
      if (Files.readString(p, StandardCharsets.ISO_8859_1).contains("Subject: " + subject + "\r\n")
          || Files.readString(p, StandardCharsets.ISO_8859_1).contains("Subject: " + subject + "\n")) {
        return true;
      }
    }
    return false;
  }
}
