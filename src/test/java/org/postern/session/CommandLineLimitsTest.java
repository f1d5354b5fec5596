package org.postern.session;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postern.smtp.CommandLineLimits;
import org.postern.spool.Envelope;
import org.postern.spool.Spool;
import org.postern.testing.CheckedSmtp;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient.Reply;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Per-verb command-line limits over a real socket: RCPT may be 500 octets longer when DSN was
 * offered (RFC 3461 section 3), MAIL 100 (+500 with AUTH, +10 with SMTPUTF8), every other verb stays
 * at RFC 5321's 512; a line over its verb's limit gets 500 5.5.2 and changes nothing.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CommandLineLimitsTest {
  private static final String SENDER = "MAIL FROM:<sender@example.org>";
  /** An ORCPT value of exactly 500 characters, RFC 3461 4.2's most. */
  private static final String ORCPT = "rfc822;a@" + "x".repeat(491);
  /** DSN offered to everyone; queue_only, so what is accepted stays in the spool to be read. */
  private static PosternTestServer server;
  /** DSN offered to nobody here. */
  private static PosternTestServer noDsn;

  @BeforeAll
  static void start() throws Exception {
    server = PosternTestServer.create().option("smtp_max_synprot_errors", "100")
        .option("queue_only", "true").start();
    noDsn = PosternTestServer.create().option("smtp_max_synprot_errors", "100")
        .option("dsn_advertise_hosts", "\"192.0.2.1\"").option("queue_only", "true").start();
  }

  @AfterAll
  static void stop() throws Exception {
    PosternTestServer.closeAll(server, noDsn);
  }

  /** {@code prefix} padded with spaces to {@code octets} on the wire, CRLF included. */
  private static String line(String prefix, int octets) {
    return prefix + " ".repeat(octets - 2 - prefix.length());
  }

  @Test
  void rcptWithA500CharacterOrcptIsAcceptedAndStored() throws Exception {
    String rcpt = "RCPT TO:<alice@test.example> NOTIFY=SUCCESS,FAILURE,DELAY ORCPT=" + ORCPT;
    assertEquals(566, CommandLineLimits.wireLength(rcpt), "longer than RFC 5321's 512");
    String id;
    try (CheckedSmtp s = CheckedSmtp.connect(server)) {
      s.ehlo("client.example");
      s.expect(SENDER, 250, "2.1.0");
      s.expect(rcpt, 250, "2.1.5");
      s.expect("DATA", 354, null);
      Reply done = s.message("Subject: long\r\n\r\nbody\r\n");
      id = done.text().substring(done.text().indexOf("id=") + 3).strip();
    }
    Envelope e = new Spool(server.root().resolve("spool")).readEnvelope(id);
    assertEquals(ORCPT, e.recipients().get(0).dsnOrcpt());
    assertEquals("SUCCESS,FAILURE,DELAY", e.recipients().get(0).dsnNotify());
    // And -bp shows it whole.
    org.postern.testing.ChildPostern.Result bp = org.postern.testing.ChildPostern.run(server.root(),
        server.confDir().resolve("postern.yaml"), "", "-bp");
    assertEquals(0, bp.exit(), bp::toString);
    org.junit.jupiter.api.Assertions.assertTrue(bp.stdout().contains("ORCPT=" + ORCPT), bp::toString);
  }

  @Test
  void rcptUpToItsRaisedLimitIsAcceptedAndOneOctetMoreIsRefused() throws Exception {
    int limit = 512 + CommandLineLimits.DSN_RCPT;
    try (CheckedSmtp s = CheckedSmtp.connect(server)) {
      s.ehlo("client.example");
      s.expect(SENDER, 250, "2.1.0");
      s.expect(line("RCPT TO:<bob@test.example> NOTIFY=NEVER", limit + 1), 500, "5.5.2");
      s.expect(line("RCPT TO:<carol@test.example>", limit + 300), 500, "5.5.2");
      // Neither was added: with no recipient DATA is refused.
      s.expect("DATA", 503, "5.5.1");
      s.expect(line("RCPT TO:<alice@test.example> NOTIFY=NEVER", limit), 250, "2.1.5");
    }
  }

  @Test
  void otherVerbsStayAt512() throws Exception {
    try (CheckedSmtp s = CheckedSmtp.connect(server)) {
      s.ehlo("client.example");
      s.expect(line("NOOP", 600), 500, "5.5.2");
      s.expect(line("HELO client.example", 600), 500, "5.5.2");
      s.expect(line("NOOP", 513), 500, "5.5.2");
      s.expect(line("NOOP", 512), 250, "2.0.0");
      // HELO was refused, so this is still the EHLO session.
      s.expect(SENDER, 250, "2.1.0");
    }
  }

  @Test
  void mailGrowsByEnvidsHundredAndSmtpUtf8sTenWithoutAuth() throws Exception {
    // The default test configuration offers SMTPUTF8 and DSN; AUTH only where an authenticator is.
    try (CheckedSmtp s = CheckedSmtp.connect(server)) {
      List<String> ehlo = s.ehlo("client.example").lines();
      boolean auth = ehlo.stream().anyMatch(l -> l.startsWith("AUTH"));
      int limit = 512 + CommandLineLimits.DSN_MAIL + CommandLineLimits.UTF8_MAIL + (auth ? CommandLineLimits.AUTH_MAIL : 0);
      s.expect(line(SENDER + " ENVID=e1", limit + 1), 500, "5.5.2");
      s.expect("RCPT TO:<alice@test.example>", 503, "5.5.1");
      s.expect(line(SENDER + " ENVID=e1", limit), 250, "2.1.0");
    }
  }

  @Test
  void limitsGrowOnlyWhenDsnWasOffered() throws Exception {
    try (CheckedSmtp s = CheckedSmtp.connect(noDsn)) {
      s.ehlo("client.example");
      s.expect(SENDER, 250, "2.1.0");
      s.expect(line("RCPT TO:<alice@test.example>", 513), 500, "5.5.2");
      s.expect("DATA", 503, "5.5.1");
      s.expect(line("RCPT TO:<alice@test.example>", 512), 250, "2.1.5");
    }
    // HELO offers no extension at all.
    try (CheckedSmtp s = CheckedSmtp.connect(server)) {
      s.helo("client.example");
      s.expect(SENDER, 250, "2.1.0");
      s.expect(line("RCPT TO:<alice@test.example>", 513), 500, "5.5.2");
      s.expect(line(SENDER, 513), 500, "5.5.2");
    }
  }
}
