package org.postern.session;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.postern.bus.AclStage;
import org.postern.testing.InMemorySmtp;
import org.postern.testing.MainLogFile;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient.Reply;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each ACL verdict through {@link PolicedCommand}, in memory ({@link InMemorySmtp}) against the
 * real session tier: what the client reads, what the main log says and what happens to the
 * session. Every stage has its own ACL, which drops one client address (192.0.2.10 and up, one per
 * stage) and accepts the others; the mail ACL also denies, defers and discards for 192.0.2.1-3.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class PolicedCommandTest {
  private static final String DENIED = "192.0.2.1";
  private static final String DEFERRED = "192.0.2.2";
  private static final String DISCARDED = "192.0.2.3";
  private static final String ACCEPTED = "192.0.2.99";
  private static final List<AclStage> DROPPING = List.of(AclStage.HELO, AclStage.MAIL, AclStage.RCPT,
      AclStage.PREDATA, AclStage.MIME, AclStage.DATA, AclStage.VRFY, AclStage.EXPN, AclStage.ETRN, AclStage.STARTTLS,
      AclStage.AUTH);
  private static final String MESSAGE = "Subject: x\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nbody\r\n.";

  private static PosternTestServer server;

  /** The client address whose commands the stage's ACL drops. */
  private static String dropped(AclStage stage) {
    return "192.0.2." + (10 + DROPPING.indexOf(stage));
  }

  @BeforeAll
  static void start() throws Exception {
    StringBuilder acl = new StringBuilder();
    for (AclStage stage : DROPPING) {
      acl.append("stage_").append(stage.wire()).append(":\n")
          .append("  - drop:    { hosts: ").append(dropped(stage)).append(", message: \"dropped at ")
          .append(stage.wire()).append("\" }\n");
      if (stage == AclStage.MAIL || stage == AclStage.RCPT) {
        acl.append("  - discard: { hosts: ").append(DISCARDED).append(" }\n");
      }
      if (stage == AclStage.MAIL) {
        acl.append("  - deny:    { hosts: ").append(DENIED).append(", message: \"denied at mail\" }\n")
            .append("  - defer:   { hosts: ").append(DEFERRED).append(", message: \"deferred at mail\" }\n");
      }
      acl.append("  - accept:\n");
    }
    acl.append("stage_quit:\n  - deny:    { message: \"see you\" }\n");
    PosternTestServer s = PosternTestServer.create().acl(acl.toString()).option("auth_advertise_hosts", "\"*\"");
    for (AclStage stage : DROPPING) {
      s.option(stage.optionName(), "stage_" + stage.wire());
    }
    server = s.option(AclStage.QUIT.optionName(), "stage_quit").startSessions();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  /** A session from {@code address} on a listener that offers STARTTLS, after the greeting. */
  private static InMemorySmtp open(String address) throws Exception {
    InMemorySmtp c = InMemorySmtp.open(server, new JsonObject().put("remote_address", address)
        .put("starttls_available", true));
    assertEquals(220, c.reply().code());
    return c;
  }

  private static InMemorySmtp greeted(String address) throws Exception {
    InMemorySmtp c = open(address);
    assertEquals(250, c.command("EHLO client.example").code());
    return c;
  }

  private static void assertReply(int code, String line, Reply r) {
    assertEquals(code, r.code(), r::toString);
    assertEquals(List.of(line), r.lines(), r::toString);
  }

  private static String host(InMemorySmtp c, String address) {
    return "H=(client.example) [" + address + "]:" + c.port();
  }

  @Test
  void acceptChangesTheSession() throws Exception {
    try (InMemorySmtp c = greeted(ACCEPTED)) {
      assertReply(250, "2.1.0 OK", c.command("MAIL FROM:<a@b.example>"));
      // The sender is in force: RCPT may follow.
      assertReply(250, "2.1.5 OK", c.command("RCPT TO:<alice@test.example>"));
    }
  }

  @Test
  void denyRefusesLogsAndTheSessionGoesOn() throws Exception {
    MainLogFile log = MainLogFile.ofTestJvm().fromNow();
    try (InMemorySmtp c = greeted(DENIED)) {
      assertReply(550, "5.7.1 denied at mail", c.command("MAIL FROM:<a@b.example>"));
      assertEquals(host(c, DENIED) + " rejected MAIL <a@b.example>: denied at mail",
          MainLogFile.event(log.await(5000, host(c, DENIED), "MAIL")));
      assertEquals(250, c.command("NOOP").code());
      assertEquals(503, c.command("RCPT TO:<alice@test.example>").code(), "a refused MAIL opens no transaction");
      assertFalse(c.closedByServer(Duration.ZERO));
    }
  }

  @Test
  void deferRefusesTemporarilyAndTheSessionGoesOn() throws Exception {
    MainLogFile log = MainLogFile.ofTestJvm().fromNow();
    try (InMemorySmtp c = greeted(DEFERRED)) {
      assertReply(450, "4.7.1 deferred at mail", c.command("MAIL FROM:<a@b.example>"));
      assertEquals(host(c, DEFERRED) + " temporarily rejected MAIL <a@b.example>: deferred at mail",
          MainLogFile.event(log.await(5000, host(c, DEFERRED), "MAIL")));
      assertEquals(503, c.command("RCPT TO:<alice@test.example>").code());
      assertEquals(450, c.command("MAIL FROM:<other@b.example>").code(), "the defer holds for every MAIL");
    }
  }

  /** Exim: discard looks like accept to the client; the recipient is forgotten, the message goes nowhere. */
  @Test
  void discardAcceptsAndForgets() throws Exception {
    MainLogFile log = MainLogFile.ofTestJvm().fromNow();
    try (InMemorySmtp c = greeted(DISCARDED)) {
      assertReply(250, "2.1.0 OK", c.command("MAIL FROM:<a@b.example>"));
      assertReply(250, "2.1.5 OK", c.command("RCPT TO:<alice@test.example>"));
      assertEquals(354, c.command("DATA").code());
      Reply end = c.command(MESSAGE);
      assertEquals(250, end.code(), end::toString);
      assertTrue(end.lines().get(0).startsWith("2.0.0 OK id="), end::toString);
      String id = end.lines().get(0).substring("2.0.0 OK id=".length());
      assertEquals(id + " <= a@b.example " + host(c, DISCARDED) + " discarded by ACL",
          MainLogFile.event(log.await(5000, id + " <= ")));
      assertTrue(server.spoolFiles().stream().noneMatch(f -> f.endsWith("-H")), "no envelope: " + server.spoolFiles());
    }
  }

  static Stream<Arguments> stages() {
    String plain = Base64.getEncoder().encodeToString("\0alice\0alice-secret".getBytes(StandardCharsets.UTF_8));
    List<String> transaction = List.of("MAIL FROM:<a@b.example>", "RCPT TO:<alice@test.example>", "DATA");
    return Stream.of(
        Arguments.of(AclStage.HELO, List.of(), "EHLO client.example", 550, "5.7.1"),
        Arguments.of(AclStage.MAIL, List.of(), "MAIL FROM:<a@b.example>", 550, "5.7.1"),
        Arguments.of(AclStage.RCPT, transaction.subList(0, 1), "RCPT TO:<alice@test.example>", 550, "5.7.1"),
        Arguments.of(AclStage.PREDATA, transaction.subList(0, 2), "DATA", 554, "5.7.1"),
        Arguments.of(AclStage.MIME, transaction, MESSAGE, 550, "5.7.1"),
        Arguments.of(AclStage.DATA, transaction, MESSAGE, 550, "5.7.1"),
        Arguments.of(AclStage.VRFY, List.of(), "VRFY alice@test.example", 550, "5.7.1"),
        Arguments.of(AclStage.EXPN, List.of(), "EXPN postmaster", 550, "5.7.1"),
        Arguments.of(AclStage.ETRN, List.of(), "ETRN example.org", 458, "4.7.1"),
        Arguments.of(AclStage.STARTTLS, List.of(), "STARTTLS", 550, "5.7.1"),
        Arguments.of(AclStage.AUTH, List.of(), "AUTH PLAIN " + plain, 550, "5.7.1"));
  }

  /** Drop refuses as deny does, then the session ends, at every stage. */
  @ParameterizedTest(name = "drop at {0}")
  @MethodSource("stages")
  void dropRefusesAndCloses(AclStage stage, List<String> before, String command, int code, String enhanced)
      throws Exception {
    String address = dropped(stage);
    MainLogFile log = MainLogFile.ofTestJvm().fromNow();
    try (InMemorySmtp c = stage == AclStage.HELO ? open(address) : greeted(address)) {
      for (String line : before) {
        Reply r = c.command(line);
        assertTrue(r.code() == 250 || r.code() == 354, line + " -> " + r);
      }
      assertReply(code, enhanced + " dropped at " + stage.wire(), c.command(command));
      assertTrue(c.closedByServer(Duration.ofSeconds(5)), "drop at " + stage.wire() + " must close the session");
      String host = stage == AclStage.HELO ? "H=[" + address + "]:" + c.port() : host(c, address);
      log.await(5000, "SMTP connection from " + host + " closed by DROP in ACL");
    }
  }

  /** QUIT cannot be refused: the ACL's message only replaces the goodbye. */
  @Test
  void quitIsNeverRefused() throws Exception {
    try (InMemorySmtp c = greeted(ACCEPTED)) {
      assertReply(221, "2.0.0 see you", c.command("QUIT"));
      assertTrue(c.closedByServer(Duration.ofSeconds(5)));
    }
  }
}
