package org.postern.session;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postern.spool.Envelope;
import org.postern.testing.CheckedSmtp;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient.Reply;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * RFC 3461's parameters on a real session with no socket: {@code DSN} in EHLO under
 * {@code dsn_advertise_hosts}, RET/ENVID on MAIL and NOTIFY/ORCPT on RCPT accepted and stored in
 * the {@code -H} file, every malformed value refused with 501 5.5.4 and nothing spooled.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class DsnParametersTest {
  private static final String SENDER = "MAIL FROM:<sender@example.org>";
  private static final String RCPT = "RCPT TO:<alice@test.example>";
  /** Default dsn_advertise_hosts (*), lenient smtp_max_synprot_errors. */
  private static PosternTestServer server;
  /** dsn_advertise_hosts excludes the client (127.0.0.1). */
  private static PosternTestServer noDsn;
  /** A rcpt ACL that shows $dsn_ret and $dsn_envid. */
  private static PosternTestServer variables;

  @BeforeAll
  static void start() throws Exception {
    // Many refusals in one session: smtp_max_synprot_errors would end it.
    server = PosternTestServer.create().option("smtp_max_synprot_errors", "100").startSessions();
    noDsn = PosternTestServer.create().option("smtp_max_synprot_errors", "100")
        .option("dsn_advertise_hosts", "\"192.0.2.1\"").startSessions();
    variables = PosternTestServer.create().acl("acl_check_rcpt:\n"
        + "  - deny: { condition: \"${if eq{$dsn_envid}{id 1}}\", message: \"ret=$dsn_ret envid=$dsn_envid\" }\n"
        + "  - accept: { }\n").withoutOption("acl_smtp_expn").withoutOption("acl_smtp_etrn").startSessions();
  }

  @AfterAll
  static void stop() throws Exception {
    PosternTestServer.closeAll(server, noDsn, variables);
  }

  private static void assertNothingSpooled(PosternTestServer s) throws Exception {
    assertEquals(List.of(), s.spoolFiles(), "spool must be empty");
  }

  @Test
  void ehloOffersDsnToMatchingHosts() throws Exception {
    try (CheckedSmtp s = CheckedSmtp.inMemory(server)) {
      assertTrue(s.ehlo("client.example").lines().contains("DSN"));
    }
    try (CheckedSmtp s = CheckedSmtp.inMemory(noDsn)) {
      assertFalse(s.ehlo("client.example").lines().contains("DSN"));
    }
  }

  @Test
  void dsnParametersFromHostsNotOfferedDsnAre555() throws Exception {
    try (CheckedSmtp s = CheckedSmtp.inMemory(noDsn)) {
      s.ehlo("client.example");
      s.expect(SENDER + " RET=HDRS", 555, "5.5.4");
      s.expect(SENDER + " ENVID=abc", 555, "5.5.4");
      s.expect(SENDER, 250, "2.1.0");
      s.expect(RCPT + " NOTIFY=NEVER", 555, "5.5.4");
      s.expect(RCPT + " ORCPT=rfc822;alice@test.example", 555, "5.5.4");
    }
    assertNothingSpooled(noDsn);
  }

  @Test
  void badMailValuesAre501WithTheReason() throws Exception {
    try (CheckedSmtp s = CheckedSmtp.inMemory(server)) {
      s.ehlo("client.example");
      assertReason(s.expect(SENDER + " RET=BODY", 501, "5.5.4"), "RET must be FULL or HDRS");
      assertReason(s.expect(SENDER + " RET", 501, "5.5.4"), "RET must be FULL or HDRS");
      assertReason(s.expect(SENDER + " ENVID=a+2", 501, "5.5.4"), "ENVID");
      assertReason(s.expect(SENDER + " ENVID=a+2b", 501, "5.5.4"), "ENVID");
      assertReason(s.expect(SENDER + " ENVID=a+0D+0Ab", 501, "5.5.4"), "ENVID");
      assertReason(s.expect(SENDER + " ENVID", 501, "5.5.4"), "ENVID");
      assertReason(s.expect(SENDER + " ENVID=" + "x".repeat(101), 501, "5.5.4"), "longer than 100");
      s.expect(SENDER + " RET=FULL RET=HDRS", 501, "5.5.4");
      s.expect(SENDER + " ENVID=a ENVID=b", 501, "5.5.4");
      // Nothing of the refused MAILs stuck: a valid one is the first.
      s.expect(SENDER + " RET=hdrs ENVID=" + "x".repeat(100), 250, "2.1.0");
    }
    assertNothingSpooled(server);
  }

  @Test
  void badRcptValuesAre501WithTheReason() throws Exception {
    try (CheckedSmtp s = CheckedSmtp.inMemory(server)) {
      s.ehlo("client.example");
      s.expect(SENDER, 250, "2.1.0");
      assertReason(s.expect(RCPT + " NOTIFY=NEVER,SUCCESS", 501, "5.5.4"), "NEVER must appear alone");
      assertReason(s.expect(RCPT + " NOTIFY=SUCCESS,SUCCESS", 501, "5.5.4"), "SUCCESS twice");
      assertReason(s.expect(RCPT + " NOTIFY=SOMETIMES", 501, "5.5.4"), "NOTIFY must be");
      assertReason(s.expect(RCPT + " NOTIFY=SUCCESS,", 501, "5.5.4"), "NOTIFY must be");
      assertReason(s.expect(RCPT + " NOTIFY", 501, "5.5.4"), "NOTIFY must be");
      assertReason(s.expect(RCPT + " ORCPT=x400;alice", 501, "5.5.4"), "rfc822");
      assertReason(s.expect(RCPT + " ORCPT=alice@test.example", 501, "5.5.4"), "rfc822");
      assertReason(s.expect(RCPT + " ORCPT=rfc822;alice+40", 501, "5.5.4"), "ORCPT");
      assertReason(s.expect(RCPT + " ORCPT=rfc822;alice+0D+0A@test.example", 501, "5.5.4"), "ORCPT");
      assertReason(s.expect(RCPT + " ORCPT=rfc822;no-domain", 501, "5.5.4"), "ORCPT");
      s.expect(RCPT + " NOTIFY=NEVER NOTIFY=NEVER", 501, "5.5.4");
      s.expect(RCPT + " XYZ=1", 555, "5.5.4");
      // None of the refused RCPTs was added.
      s.expect(RCPT + " ORCPT=rfc822;alice@test.example", 250, "2.1.5");
      s.expect("RSET", 250, "2.0.0");
    }
    assertNothingSpooled(server);
  }

  @Test
  void acceptedParametersAreStoredInTheEnvelope() throws Exception {
    String id;
    try (CheckedSmtp s = CheckedSmtp.inMemory(server)) {
      s.ehlo("client.example");
      s.expect(SENDER + " RET=HDRS ENVID=QQ+2B314", 250, "2.1.0");
      s.expect(RCPT + " NOTIFY=success,delay ORCPT=rfc822;Alice+2BX@test.example", 250, "2.1.5");
      s.expect("RCPT TO:<bob@test.example> NOTIFY=NEVER", 250, "2.1.5");
      s.expect("RCPT TO:<admin@test.example>", 250, "2.1.5");
      s.expect("DATA", 354, null);
      Reply r = s.message("Subject: dsn\r\n\r\nhi\r\n");
      id = r.lines().get(0).replaceAll(".*id=", "");
    }
    Path h = server.spoolInput().resolve(id + "-H");
    Envelope e = Envelope.fromJson(new JsonObject(Files.readString(h)));
    Files.delete(h);
    Files.deleteIfExists(server.spoolInput().resolve(id + "-D"));
    assertEquals("HDRS", e.dsnRet());
    assertEquals("QQ+314", e.dsnEnvid());
    assertEquals("SUCCESS,DELAY", e.recipients().get(0).dsnNotify());
    assertEquals("rfc822;Alice+X@test.example", e.recipients().get(0).dsnOrcpt());
    assertEquals("NEVER", e.recipients().get(1).dsnNotify());
    assertNull(e.recipients().get(2).dsnNotify());
    assertNull(e.recipients().get(2).dsnOrcpt());
  }

  /**
   * RFC 3461 4.2's 500 characters for ORCPT: the parser's limit (a RCPT line holding one fits in
   * the 500 extra octets DSN gives RCPT; see {@link CommandLineLimitsTest}).
   */
  @Test
  void orcptLongerThan500IsRefused() {
    String at500 = "rfc822;a@" + "x".repeat(491);
    assertEquals(at500, DsnParameters.rcpt(java.util.Map.of("ORCPT", at500)).value().orcpt());
    DsnParameters.Result<DsnParameters.Rcpt> over = DsnParameters.rcpt(java.util.Map.of("ORCPT", at500 + "x"));
    assertEquals(501, over.refusal().code());
    assertEquals("5.5.4", over.refusal().enhanced());
    assertTrue(over.refusal().text().contains("longer than 500"), over.refusal().text());
  }

  @Test
  void anEnvelopeWrittenBeforeDsnStillLoads() {
    Envelope e = Envelope.fromJson(new JsonObject("{\"id\":\"1abcde-000000-AB\",\"sender\":\"a@b.example\","
        + "\"recipients\":[{\"address\":\"c@d.example\",\"local_part\":\"c\",\"domain\":\"d.example\","
        + "\"state\":\"pending\"}],\"received_at\":1,\"size\":3}"));
    assertNull(e.dsnRet());
    assertNull(e.dsnEnvid());
    assertNull(e.recipients().get(0).dsnNotify());
    assertTrue(e.recipients().get(0).notifies("FAILURE"));
    assertTrue(e.recipients().get(0).notifies("DELAY"));
    assertFalse(e.recipients().get(0).notifies("SUCCESS"));
    // And it is written back without DSN keys.
    assertFalse(e.toJson().containsKey("dsn_ret"));
  }

  @Test
  void aclsSeeDsnRetAndDsnEnvid() throws Exception {
    try (CheckedSmtp s = CheckedSmtp.inMemory(variables)) {
      s.ehlo("client.example");
      s.expect(SENDER + " RET=FULL ENVID=id+201", 250, "2.1.0");
      assertReason(s.expect(RCPT, 550, "5.7.1"), "ret=FULL envid=id 1");
    }
    assertNothingSpooled(variables);
  }

  private static void assertReason(Reply r, String reason) {
    assertTrue(r.toString().contains(reason), "reply must say " + reason + ": " + r);
  }
}
