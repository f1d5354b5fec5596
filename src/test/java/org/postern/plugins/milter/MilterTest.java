package org.postern.plugins.milter;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.postern.spool.Spool;
import org.postern.testing.Await;
import org.postern.testing.CheckedSmtp;
import org.postern.testing.MainLogFile;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient;

import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The milter client against a scripted milter over real sockets: what each callback carries,
 * every action, and the default action for a milter that is down, silent or broken.
 */
class MilterTest {
  private static final String MESSAGE = "Received: by upstream.example; Mon, 7 Dec 2026 00:00:00 +0000\r\n"
      + "From: sender@example.org\r\nTo: alice@test.example\r\n"
      + "Subject: milter test\r\nX-Old: one\r\nX-Old: two\r\n\r\nhello milter\r\n.";

  private static PosternTestServer server() throws Exception {
    return PosternTestServer.create().start();
  }

  private static void deploy(PosternTestServer server, JsonObject config) throws Exception {
    server.vertx().deployVerticle(MilterVerticle.class.getName(), new DeploymentOptions().setConfig(config))
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static JsonObject config(String address) {
    return new JsonObject().put("milters", new JsonArray().add(address)).put("command_timeout", "2s")
        .put("content_timeout", "2s").put("connect_timeout", "2s");
  }

  /** The replies to MAIL, RCPT and the final dot (the last two only as far as the transaction got). */
  private static List<SmtpTestClient.Reply> transaction(PosternTestServer server) throws Exception {
    try (SmtpTestClient c = SmtpTestClient.connect(server.port())) {
      assertEquals(220, c.reply().code());
      assertEquals(250, c.command("EHLO client.example").code());
      SmtpTestClient.Reply mail = c.command("MAIL FROM:<sender@example.org> SIZE=200");
      if (mail.code() != 250) {
        return List.of(mail);
      }
      SmtpTestClient.Reply rcpt = c.command("RCPT TO:<alice@test.example>");
      if (rcpt.code() != 250) {
        return List.of(mail, rcpt);
      }
      assertEquals(354, c.command("DATA").code());
      SmtpTestClient.Reply done = c.command(MESSAGE);
      c.command("QUIT");
      return List.of(mail, rcpt, done);
    }
  }

  private static String delivered(PosternTestServer server) throws Exception {
    return Files.readString(server.awaitMailbox("alice", 1, 10_000).get(0), StandardCharsets.UTF_8);
  }

  private static FakeMilter milter(Function<FakeMilter.Packet, List<byte[]>> script) throws Exception {
    return new FakeMilter(0, script);
  }

  @Test
  void everyCallbackCarriesTheSessionAndTheSpooledMessage() throws Exception {
    try (PosternTestServer server = server(); FakeMilter m = milter(null)) {
      deploy(server, config(m.address()));
      List<SmtpTestClient.Reply> replies = transaction(server);
      assertEquals(250, replies.get(2).code(), replies.toString());
      String mail = delivered(server);
      assertTrue(mail.contains("hello milter"), mail);
      m.await("closed", 5000);
      String order = m.received().stream().map(p -> String.valueOf(p.command())).reduce("", String::concat);
      // Negotiation, connect, HELO, MAIL, RCPT, DATA, headers, end of headers, body, end of body, QUIT.
      assertTrue(order.matches("OD?CD?HD?MD?RD?TL+NBD?EQ"), order);
      FakeMilter.Packet connect = m.received('C').get(0);
      assertEquals('4', connect.data()[connect.text().indexOf('\0') + 1], connect.text());
      assertTrue(connect.text().endsWith("127.0.0.1\0"), connect.text());
      assertEquals(List.of("client.example"), m.received('H').get(0).strings());
      assertEquals(List.of("<sender@example.org>", "SIZE=200"), m.received('M').get(0).strings());
      assertEquals(List.of("<alice@test.example>"), m.received('R').get(0).strings());
      List<String> headers = m.received('L').stream().map(p -> p.strings().get(0)).toList();
      // Postern's own Received: is not shown, as Sendmail and Postfix hide theirs.
      assertEquals(List.of("Received", "From", "To", "Subject", "X-Old", "X-Old"), headers);
      assertEquals("by upstream.example; Mon, 7 Dec 2026 00:00:00 +0000", m.received('L').get(0).strings().get(1));
      assertEquals("milter test", m.received('L').get(3).strings().get(1), "no leading space without HDR_LEADSPC");
      assertEquals("hello milter\r\n", m.received('B').get(0).text());
      String macros = m.received('D').stream().flatMap(p -> p.strings().stream()).reduce("", (a, b) -> a + b + "|");
      assertTrue(macros.contains("j|mx.test.example|"), macros);
      assertTrue(macros.contains("{daemon_name}|postern|"), macros);
      assertTrue(macros.contains("{mail_addr}|sender@example.org|"), macros);
      assertTrue(macros.contains("{rcpt_addr}|alice@test.example|"), macros);
      String id = replies.get(2).text().replaceAll(".*id=", "");
      assertTrue(macros.contains("i|" + id + "|"), macros + " / " + id);
    }
  }

  /** BDAT LAST is the end of DATA for the filters too: the milter sees the chunks' content and edits it. */
  @Test
  void aMessageSentInBdatChunksGoesThroughTheMilter() throws Exception {
    Function<FakeMilter.Packet, List<byte[]>> script = p -> p.command() != 'E' ? null : List.of(
        FakeMilter.packet('h', null, "X-Added", "by the milter"),
        FakeMilter.packet('b', "replaced body\n".getBytes(StandardCharsets.UTF_8)),
        FakeMilter.packet('a'));
    try (PosternTestServer server = server(); FakeMilter m = milter(script);
         SmtpTestClient c = SmtpTestClient.connect(server.port())) {
      deploy(server, config(m.address()));
      assertEquals(220, c.reply().code());
      assertEquals(250, c.command("EHLO client.example").code());
      assertEquals(250, c.command("MAIL FROM:<sender@example.org>").code());
      assertEquals(250, c.command("RCPT TO:<alice@test.example>").code());
      String content = MESSAGE.substring(0, MESSAGE.length() - 1);
      int cut = content.indexOf("Subject:");
      c.send("BDAT " + cut + "\r\n" + content.substring(0, cut));
      assertEquals(250, c.reply().code());
      c.send("BDAT " + (content.length() - cut) + " LAST\r\n" + content.substring(cut));
      SmtpTestClient.Reply done = c.reply();
      assertEquals(250, done.code(), done.toString());
      assertEquals("hello milter\r\n", m.received('B').get(0).text());
      String mail = delivered(server);
      assertTrue(mail.contains("X-Added: by the milter\r\n"), mail);
      assertTrue(mail.endsWith("\r\n\r\nreplaced body\r\n"), mail);
    }
  }

  @Test
  void headerAndBodyActionsAreAppliedToTheSpooledMessage() throws Exception {
    Function<FakeMilter.Packet, List<byte[]>> script = p -> p.command() != 'E' ? null : List.of(
        FakeMilter.packet('h', null, "X-Added", "at the end"),
        FakeMilter.packet('i', 0, "X-First", "at the top"),
        FakeMilter.packet('m', 1, "Subject", "changed subject"),
        FakeMilter.packet('m', 2, "X-Old", ""),
        FakeMilter.packet('m', 1, "Received", "by changed.example"),
        FakeMilter.packet('b', "new body line one\nline two\n".getBytes(StandardCharsets.UTF_8)),
        FakeMilter.packet('a'));
    try (PosternTestServer server = server(); FakeMilter m = milter(script)) {
      deploy(server, config(m.address()));
      assertEquals(250, transaction(server).get(2).code());
      String mail = delivered(server);
      int top = mail.indexOf("X-First: at the top\r\n");
      assertTrue(top >= 0 && top < mail.indexOf("Received:"), mail);
      // Index 1 of Received is the first one the milter saw, the client's: Postern's own is untouched.
      assertTrue(mail.contains("Received: from client.example"), mail);
      assertTrue(mail.contains("Received: by changed.example\r\n"), mail);
      assertFalse(mail.contains("upstream.example"), mail);
      assertTrue(mail.contains("Subject: changed subject\r\n"), mail);
      assertFalse(mail.contains("milter test"), mail);
      assertTrue(mail.contains("X-Old: one\r\n"), mail);
      assertFalse(mail.contains("X-Old: two"), mail);
      int added = mail.indexOf("X-Added: at the end\r\n");
      assertTrue(added > mail.indexOf("X-Old: one") && added < mail.indexOf("\r\n\r\n"), mail);
      assertTrue(mail.endsWith("\r\n\r\nnew body line one\r\nline two\r\n"), mail);
      assertFalse(mail.contains("hello milter"), mail);
    }
  }

  /**
   * A message past the spool writer's memory threshold (written out in chunks before the milter
   * reads it), with a header from the data ACL (not yet in the file when the milter is asked):
   * the milter sees that header, and it is in the delivered message once, whether the milter
   * rewrote the file or Postern inserted it.
   */
  @Test
  void largeMessagesAndDataAclHeadersSurviveTheMilter() throws Exception {
    java.util.concurrent.atomic.AtomicBoolean edit = new java.util.concurrent.atomic.AtomicBoolean(true);
    Function<FakeMilter.Packet, List<byte[]>> script = p -> p.command() != 'E' || !edit.get() ? null
        : List.of(FakeMilter.packet('h', null, "X-Milter", "edited"), FakeMilter.packet('c'));
    String acl = "acl_check_rcpt:\n  - accept: { domains: +local_domains }\n"
        + "acl_check_data:\n  - accept: { add_header: \"X-Late: from the data ACL\" }\n";
    String line = "0123456789".repeat(7) + "\r\n";
    String body = line.repeat(10_000);
    try (PosternTestServer server = PosternTestServer.create().acl(acl).option("acl_smtp_data", "acl_check_data")
        .withoutOption("acl_smtp_expn").withoutOption("acl_smtp_etrn").start(); FakeMilter m = milter(script)) {
      deploy(server, config(m.address()));
      for (boolean edited : new boolean[] {true, false}) {
        edit.set(edited);
        try (CheckedSmtp c = CheckedSmtp.connect(server)) {
          c.ehlo("client.example");
          c.expect("MAIL FROM:<sender@example.org>", 250, "2.1.0");
          c.expect("RCPT TO:<alice@test.example>", 250, "2.1.5");
          c.expect("DATA", 354, null);
          c.message("Subject: big\r\n\r\n" + body + "the end\r\n");
        }
        List<java.nio.file.Path> box = server.awaitMailbox("alice", edited ? 1 : 2, 10_000);
        String mail = Files.readString(box.get(box.size() - 1), StandardCharsets.UTF_8);
        String headers = mail.substring(0, mail.indexOf("\r\n\r\n") + 2);
        assertEquals(1, headers.split("X-Late: from the data ACL\r\n", -1).length - 1, headers);
        assertTrue(headers.indexOf("X-Late:") > headers.indexOf("Received:"), headers);
        assertEquals(edited, headers.contains("X-Milter: edited\r\n"), headers);
        assertTrue(mail.endsWith("\r\n\r\n" + body + "the end\r\n"), "body intact, " + mail.length() + " bytes");
      }
      assertTrue(m.received('L').stream().anyMatch(p -> p.strings().get(0).equals("X-Late")), "the milter saw X-Late");
    }
  }

  @Test
  void rejectTempfailAndReplyCodesAtEachStage() throws Exception {
    Function<FakeMilter.Packet, List<byte[]>> script = p -> switch (p.command()) {
      case 'R' -> p.strings().get(0).startsWith("<bob") ? List.of(FakeMilter.packet('y', null, "550 5.7.1 bob is not wanted (100%% sure)"))
          : p.strings().get(0).startsWith("<admin") ? List.of(FakeMilter.packet('t')) : null;
      case 'M' -> p.strings().get(0).startsWith("<spammer") ? List.of(FakeMilter.packet('r')) : null;
      case 'E' -> List.of(FakeMilter.packet('y', null, "451 4.7.1 Try again, content scanner busy"));
      default -> null;
    };
    try (PosternTestServer server = server(); FakeMilter m = milter(script);
         SmtpTestClient c = SmtpTestClient.connect(server.port())) {
      deploy(server, config(m.address()));
      MainLogFile log = MainLogFile.ofTestJvm().fromNow();
      MainLogFile rejects = new MainLogFile(log.file().resolveSibling("rejectlog")).fromNow();
      SmtpTestClient.Reply[] r = new SmtpTestClient.Reply[6];
      // The session began before the plugin was deployed: the milter hears of the connection at MAIL.
      assertEquals(220, c.reply().code());
      assertEquals(250, c.command("EHLO client.example").code());
      r[0] = c.command("MAIL FROM:<spammer@example.org>");
      assertEquals("550 5.7.1 Command rejected", r[0].toString());
      assertEquals(250, c.command("MAIL FROM:<sender@example.org>").code());
      r[1] = c.command("RCPT TO:<bob@test.example>");
      assertEquals("550 5.7.1 bob is not wanted (100% sure)", r[1].toString());
      r[2] = c.command("RCPT TO:<admin@test.example>");
      assertEquals("451 4.7.1 Service unavailable - try again later", r[2].toString());
      assertEquals(250, c.command("RCPT TO:<alice@test.example>").code());
      assertEquals(354, c.command("DATA").code());
      r[3] = c.command(MESSAGE);
      assertEquals("451 4.7.1 Try again, content scanner busy", r[3].toString());
      log.await(5000, "rejected after DATA", "Try again, content scanner busy");
      log.await(5000, "rejected RCPT <bob@test.example>: bob is not wanted (100% sure)");
      rejects.await(5000, "rejected RCPT <bob@test.example>: bob is not wanted (100% sure)");
      server.awaitSpoolEmpty(5000);
      assertTrue(server.mailbox("alice").isEmpty());
      assertEquals(1, m.received('C').size(), "connect told once, late");
    }
  }

  @Test
  void connectAndHeloRefusals() throws Exception {
    java.util.concurrent.atomic.AtomicInteger connects = new java.util.concurrent.atomic.AtomicInteger();
    Function<FakeMilter.Packet, List<byte[]>> script = p -> switch (p.command()) {
      case 'C' -> connects.incrementAndGet() == 1 ? List.of(FakeMilter.packet('y', null, "554 5.7.1 Go away")) : null;
      case 'H' -> p.strings().get(0).equals("bad.example") ? List.of(FakeMilter.packet('r')) : null;
      default -> null;
    };
    try (PosternTestServer server = server(); FakeMilter m = milter(script)) {
      deploy(server, config(m.address()));
      MainLogFile log = MainLogFile.ofTestJvm().fromNow();
      try (SmtpTestClient c = SmtpTestClient.connect(server.port())) {
        assertEquals("554 5.7.1 Go away", c.reply().toString());
        assertTrue(c.closedByServer(java.time.Duration.ofSeconds(5)));
      }
      log.await(5000, "rejected connection from", "by filter");
      try (SmtpTestClient c = SmtpTestClient.connect(server.port())) {
        assertEquals(220, c.reply().code());
        assertEquals("550 5.7.1 Command rejected", c.command("EHLO bad.example").toString());
        assertEquals(503, c.command("MAIL FROM:<sender@example.org>").code(), "not greeted");
        assertEquals(250, c.command("EHLO good.example").code());
        assertEquals(250, c.command("MAIL FROM:<sender@example.org>").code());
      }
    }
  }

  @Test
  void discardAcceptsAndDropsQuarantineFreezes() throws Exception {
    java.util.concurrent.atomic.AtomicBoolean quarantine = new java.util.concurrent.atomic.AtomicBoolean();
    Function<FakeMilter.Packet, List<byte[]>> script = p -> p.command() != 'E' ? null : quarantine.get()
        ? List.of(FakeMilter.packet('q', null, "suspicious attachment"), FakeMilter.packet('c'))
        : List.of(FakeMilter.packet('d'));
    try (PosternTestServer server = server(); FakeMilter m = milter(script)) {
      deploy(server, config(m.address()));
      SmtpTestClient.Reply discarded = transaction(server).get(2);
      assertEquals(250, discarded.code(), discarded.toString());
      String id = discarded.text().replaceAll(".*id=", "");
      MainLogFile.ofTestJvm().await(5000, id, "discarded by filter");
      Await.until("the discarded message's files removed", 5000,
          () -> server.spoolFiles().stream().noneMatch(f -> f.startsWith(id)));

      quarantine.set(true);
      SmtpTestClient.Reply frozen = transaction(server).get(2);
      assertEquals(250, frozen.code(), frozen.toString());
      String frozenId = frozen.text().replaceAll(".*id=", "");
      MainLogFile.ofTestJvm().await(5000, frozenId, "frozen by filter", "suspicious attachment");
      assertTrue(new Spool(server.root().resolve("spool")).readEnvelope(frozenId).frozen());
      assertTrue(server.mailbox("alice").isEmpty(), "a frozen message is not delivered");
    }
  }

  @Test
  void malformedRepliesApplyTheDefaultAction() throws Exception {
    // Each kind of breakage at the end of message: nothing is accepted by mistake (tempfail).
    List<Function<FakeMilter.Packet, List<byte[]>>> broken = List.of(
        p -> p.command() == 'E' ? FakeMilter.CLOSE : null,
        p -> p.command() == 'E' ? List.of(FakeMilter.packet('Z')) : null,
        p -> p.command() == 'E' ? List.of(new byte[] {0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff, 'c'}) : null,
        p -> p.command() == 'E' ? List.of(FakeMilter.packet('h', null, "No-Terminator")) : null,
        p -> p.command() == 'E' ? FakeMilter.SILENCE : null);
    for (Function<FakeMilter.Packet, List<byte[]>> script : broken) {
      try (PosternTestServer server = server(); FakeMilter m = milter(script)) {
        deploy(server, config(m.address()).put("content_timeout", "500ms"));
        SmtpTestClient.Reply done = transaction(server).get(2);
        assertEquals("451 4.7.1 Service unavailable - try again later", done.toString());
        server.awaitSpoolEmpty(5000);
      }
    }
  }

  @Test
  void milterThatIsDownGetsItsDefaultAction() throws Exception {
    int free;
    try (ServerSocket s = new ServerSocket(0)) {
      free = s.getLocalPort();
    }
    String nowhere = "inet:127.0.0.1:" + free;
    try (PosternTestServer server = server()) {
      deploy(server, config(nowhere).put("default_action", "reject"));
      assertEquals("550 5.7.1 Command rejected", transaction(server).get(0).toString());
    }
    try (PosternTestServer server = server()) {
      deploy(server, config(nowhere));
      assertEquals("451 4.7.1 Service unavailable - try again later", transaction(server).get(0).toString());
    }
    try (PosternTestServer server = server()) {
      deploy(server, new JsonObject().put("milters", new JsonArray()
          .add(new JsonObject().put("address", nowhere).put("default_action", "accept"))));
      assertEquals(250, transaction(server).get(2).code());
      assertTrue(delivered(server).contains("hello milter"));
    }
  }

  @Test
  void silentMilterTimesOutAtItsCommandTimeout() throws Exception {
    try (PosternTestServer server = server(); FakeMilter m = milter(p -> p.command() == 'M' ? FakeMilter.SILENCE : null)) {
      deploy(server, config(m.address()).put("command_timeout", "300ms"));
      long start = System.nanoTime();
      assertEquals("451 4.7.1 Service unavailable - try again later", transaction(server).get(0).toString());
      long millis = (System.nanoTime() - start) / 1_000_000;
      assertTrue(millis < 5000, "answered after " + millis + " ms");
      m.await("closed", 5000);
    }
  }

  @Test
  void badOptionsAreRefusedByName() throws Exception {
    try (PosternTestServer server = server()) {
      for (JsonObject bad : List.of(new JsonObject(), new JsonObject().put("milters", new JsonArray().add("unix:/x")),
          config("inet:127.0.0.1:1").put("default_action", "maybe"), config("inet:127.0.0.1:1").put("command_timeout", "0s"))) {
        Exception e = org.junit.jupiter.api.Assertions.assertThrows(Exception.class, () -> deploy(server, bad));
        assertTrue(e.getMessage().contains("milter"), e.getMessage());
      }
      Await.until("no filter registered", 1000, () -> org.postern.bus.SessionFilters.of(server.vertx()).isEmpty());
    }
  }
}
