package org.postern.delivery.smtp;

import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.postern.bus.DeliveryStatus;
import org.postern.config.SmtpTransportOptions;
import org.postern.testing.ScriptedSmtpServer;
import org.postern.testing.ScriptedSmtpServer.Step;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.delivery.smtp.SmtpClientTesting.await;
import static org.postern.delivery.smtp.SmtpClientTesting.dataFile;
import static org.postern.delivery.smtp.SmtpClientTesting.deliver;
import static org.postern.delivery.smtp.SmtpClientTesting.host;
import static org.postern.delivery.smtp.SmtpClientTesting.message;
import static org.postern.delivery.smtp.SmtpClientTesting.options;
import static org.postern.delivery.smtp.SmtpClientTesting.started;

/** Deliveries that go right, and per-recipient and per-stage answers from a well-behaved server. */
@ExtendWith(VertxExtension.class)
@Timeout(60)
class SmtpClientDeliveryTest {
  private static final String BODY = "Received: by test\r\nSubject: hi\r\n\r\nHello.\r\n";

  @TempDir
  Path dir;
  private NetClient client;
  private SmtpTransportOptions options;

  @BeforeEach
  void setUp(Vertx vertx) throws Exception {
    client = vertx.createNetClient();
    options = options(dir, "command_timeout: 5s\n");
  }

  @Test
  void deliversOneMessage(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create());
    MessageResult r = deliver(vertx, client, host(server), options, message(dataFile(dir, "m", BODY), "a@x.example"));
    assertEquals(List.of(DeliveryStatus.DELIVERED), r.recipients().stream().map(RecipientResult::status).toList());
    assertEquals(250, r.recipients().get(0).code());
    assertTrue(r.recipients().get(0).text().contains("OK id=scripted1"), r.recipients().get(0).text());
    assertNull(r.hostProblem());
    assertNull(r.tls());
    ScriptedSmtpServer.Envelope e = server.envelopes().get(0);
    assertEquals("sender@client.test.example", e.sender());
    assertEquals(List.of("a@x.example"), e.recipients());
    assertEquals(BODY, e.text());
    assertEquals("SIZE=" + (BODY.length() + 1024), e.mailParameters());
    assertEquals(1, server.commands("QUIT").size());
  }

  @Test
  void nullSenderIsSentAsEmptyPath(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create());
    Path data = dataFile(dir, "m", BODY);
    deliver(vertx, client, host(server), options, new OutboundMessage("", List.of("a@x.example"), data, 10, false));
    assertEquals(1, server.commands("MAIL FROM:<> SIZE=").size());
  }

  @Test
  void threeMessagesOverOneConnection(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create());
    SmtpClientConnection c = await(SmtpClientConnection.open(vertx, client, host(server), options));
    for (int i = 1; i <= 3; i++) {
      MessageResult r = await(c.send(message(dataFile(dir, "m" + i, "Subject: " + i + "\r\n\r\nbody\r\n"),
          "r" + i + "@x.example")));
      assertEquals(DeliveryStatus.DELIVERED, r.recipients().get(0).status());
    }
    assertEquals(3, c.messages());
    assertTrue(c.usable());
    await(c.quit());
    assertEquals(1, server.connections());
    assertEquals(Map.of(1, 3), server.messagesPerConnection());
    assertEquals(0, server.commands("RSET").size(), "no RSET after completed transactions");
    assertEquals("Subject: 2\r\n\r\nbody\r\n", server.envelopes().get(1).text());
  }

  @Test
  void pipeliningSendsMailAndRecipientsInOneWrite(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create());
    deliver(vertx, client, host(server), options, message(dataFile(dir, "m", BODY), "a@x.example", "b@x.example"));
    List<ScriptedSmtpServer.Command> mail = server.commands("MAIL");
    List<ScriptedSmtpServer.Command> rcpt = server.commands("RCPT");
    assertEquals(2, rcpt.size());
    assertTrue(rcpt.stream().allMatch(c -> c.chunk() == mail.get(0).chunk()), "one write: " + server.commands());
  }

  @Test
  void withoutPipeliningEachCommandWaitsForItsReply(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().pipelining(false));
    MessageResult r = deliver(vertx, client, host(server), options,
        message(dataFile(dir, "m", BODY), "a@x.example", "b@x.example"));
    assertEquals(2, r.with(DeliveryStatus.DELIVERED).size());
    List<Integer> chunks = server.commands().stream().filter(c -> c.line().matches("(MAIL|RCPT).*"))
        .map(ScriptedSmtpServer.Command::chunk).toList();
    assertEquals(3, chunks.stream().distinct().count(), "separate writes: " + server.commands());
  }

  @Test
  void hostsAvoidPipeliningIsHonoured(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create());
    deliver(vertx, client, host(server), options(dir, "hosts_avoid_pipelining: 127.0.0.1\n"),
        message(dataFile(dir, "m", BODY), "a@x.example", "b@x.example"));
    List<Integer> chunks = server.commands().stream().filter(c -> c.line().matches("(MAIL|RCPT).*"))
        .map(ScriptedSmtpServer.Command::chunk).toList();
    assertEquals(3, chunks.stream().distinct().count(), server.commands().toString());
  }

  @Test
  void sizeRefusedAtMailFailsTheMessageWithTheServersAnswer(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().reply(Step.MAIL, 552));
    MessageResult r = deliver(vertx, client, host(server), options, message(dataFile(dir, "m", BODY), "a@x.example",
        "b@x.example"));
    assertEquals(2, r.with(DeliveryStatus.FAILED).size());
    RecipientResult a = r.recipients().get(0);
    assertEquals(552, a.code());
    assertTrue(a.text().startsWith("SMTP error from remote mail server after MAIL FROM:<sender@client.test.example>"
        + " SIZE="), a.text());
    assertTrue(a.text().contains("552 5.1.0 sender refused"), a.text());
    assertTrue(server.envelopes().isEmpty());
    // The pipelined DATA (RFC 2920 3.1) went with MAIL, and was refused: no content followed it.
    assertEquals(1, server.commands("DATA").size());
    assertEquals(0, server.commands("SUBJECT").size(), server.commands().toString());
  }

  @Test
  void noSizeParameterWhenNotAdvertised(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().size(false));
    deliver(vertx, client, host(server), options, message(dataFile(dir, "m", BODY), "a@x.example"));
    assertEquals("", server.envelopes().get(0).mailParameters());
  }

  @Test
  void eightBitMessageSaysBody8BitMimeWhenAdvertised(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().size(false));
    Path data = dataFile(dir, "m", "Subject: caf\u00e9\r\n\r\n\u00e9t\u00e9\r\n");
    deliver(vertx, client, host(server), options,
        new OutboundMessage("s@x.example", List.of("a@x.example"), data, Files.size(data), true));
    assertEquals("BODY=8BITMIME", server.envelopes().get(0).mailParameters());
    assertArrayEquals(Files.readAllBytes(data), server.envelopes().get(0).data());
  }

  @Test
  void eightBitMessageWithout8BitMimeOnTheServerHasNoBodyParameter(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().size(false).eightBitMime(false));
    Path data = dataFile(dir, "m", BODY);
    deliver(vertx, client, host(server), options,
        new OutboundMessage("s@x.example", List.of("a@x.example"), data, Files.size(data), true));
    assertEquals("", server.envelopes().get(0).mailParameters());
  }

  @Test
  void sevenBitMessageHasNoBodyParameter(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().size(false));
    deliver(vertx, client, host(server), options, message(dataFile(dir, "m", BODY), "a@x.example"));
    assertEquals("", server.envelopes().get(0).mailParameters());
  }

  @Test
  void dotStuffingRoundTrips(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create());
    String content = ".\r\n..\r\n.x\r\nmiddle . dot\r\n\r\n.\r\nlast line without CRLF";
    deliver(vertx, client, host(server), options, message(dataFile(dir, "m", content), "a@x.example"));
    assertEquals(content + "\r\n", server.envelopes().get(0).text());
  }

  @Test
  void emptyFileAndFileEndingInCrlfGetNoExtraLine(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create());
    SmtpClientConnection c = await(SmtpClientConnection.open(vertx, client, host(server), options));
    await(c.send(message(dataFile(dir, "empty", ""), "a@x.example")));
    await(c.send(message(dataFile(dir, "crlf", "a\r\n"), "a@x.example")));
    await(c.quit());
    assertEquals("", server.envelopes().get(0).text());
    assertEquals("a\r\n", server.envelopes().get(1).text());
  }

  @Test
  void fiveMegabyteMessageArrivesByteIdentical(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create());
    Random random = new Random(42);
    StringBuilder sb = new StringBuilder(5 * 1024 * 1024 + 200);
    sb.append("Subject: big\r\n\r\n");
    while (sb.length() < 5 * 1024 * 1024) {
      int len = random.nextInt(120);
      for (int i = 0; i < len; i++) {
        // Some lines start with a dot, so stuffing happens across chunk boundaries too.
        sb.append(i == 0 && random.nextInt(10) == 0 ? '.' : (char) ('a' + random.nextInt(26)));
      }
      sb.append("\r\n");
    }
    Path data = dataFile(dir, "big", sb.toString());
    MessageResult r = deliver(vertx, client, host(server), options, message(data, "a@x.example"));
    assertEquals(DeliveryStatus.DELIVERED, r.recipients().get(0).status());
    assertArrayEquals(Files.readAllBytes(data), server.envelopes().get(0).data());
  }

  @Test
  void perRecipientAnswersGivePerRecipientResults(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create()
        .rcpt("defer@x.example", 450).rcpt("bad@x.example", 550));
    MessageResult r = deliver(vertx, client, host(server), options,
        message(dataFile(dir, "m", BODY), "good@x.example", "defer@x.example", "bad@x.example"));
    assertEquals(List.of(DeliveryStatus.DELIVERED, DeliveryStatus.DEFERRED, DeliveryStatus.FAILED),
        r.recipients().stream().map(RecipientResult::status).toList());
    assertEquals(450, r.recipients().get(1).code());
    assertEquals("4.2.0", r.recipients().get(1).enhanced());
    assertEquals("SMTP error from remote mail server after RCPT TO:<bad@x.example>: 550 5.1.1 <bad@x.example>"
        + " unknown user", r.recipients().get(2).text());
    assertEquals(List.of("good@x.example"), server.envelopes().get(0).recipients());
  }

  @Test
  void pipeliningSendsDataInTheSameWriteAsMailAndRecipients(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create());
    MessageResult r = deliver(vertx, client, host(server), options,
        message(dataFile(dir, "m", BODY), "a@x.example", "b@x.example"));
    assertEquals(2, r.with(DeliveryStatus.DELIVERED).size());
    List<ScriptedSmtpServer.Command> mail = server.commands("MAIL");
    List<ScriptedSmtpServer.Command> data = server.commands("DATA");
    assertEquals(1, data.size());
    assertEquals(mail.get(0).chunk(), data.get(0).chunk(), "RFC 2920 3.1, DATA ends the group: " + server.commands());
    assertEquals(BODY, server.envelopes().get(0).text());
  }

  @Test
  void allRecipientsRefusedWithPipeliningMeansDataRefusedAndRsetBeforeTheNextMessage(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().rcpt("bad@x.example", 550));
    SmtpClientConnection c = await(SmtpClientConnection.open(vertx, client, host(server), options));
    MessageResult first = await(c.send(message(dataFile(dir, "m1", BODY), "bad@x.example")));
    assertEquals(DeliveryStatus.FAILED, first.recipients().get(0).status());
    assertEquals(550, first.recipients().get(0).code());
    MessageResult second = await(c.send(message(dataFile(dir, "m2", BODY), "good@x.example")));
    assertEquals(DeliveryStatus.DELIVERED, second.recipients().get(0).status());
    await(c.quit());
    // The pipelined DATA of the first message got "554 no valid recipients" and nothing followed it.
    assertEquals(2, server.commands("DATA").size(), server.commands().toString());
    assertEquals(1, server.commands("RSET").size());
    assertEquals(List.of("good@x.example"), server.envelopes().stream()
        .flatMap(e -> e.recipients().stream()).toList());
  }

  @Test
  void allRecipientsRefusedWithoutPipeliningMeansNoDataAndRsetBeforeTheNextMessage(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().pipelining(false)
        .rcpt("bad@x.example", 550));
    SmtpClientConnection c = await(SmtpClientConnection.open(vertx, client, host(server), options));
    MessageResult first = await(c.send(message(dataFile(dir, "m1", BODY), "bad@x.example")));
    assertEquals(DeliveryStatus.FAILED, first.recipients().get(0).status());
    MessageResult second = await(c.send(message(dataFile(dir, "m2", BODY), "good@x.example")));
    assertEquals(DeliveryStatus.DELIVERED, second.recipients().get(0).status());
    await(c.quit());
    assertEquals(1, server.commands("DATA").size(), "DATA only for the second message");
    assertEquals(1, server.commands("RSET").size());
  }

  @Test
  void a354ToPipelinedDataAfterEveryRecipientWasRefusedGetsTheDotAlone(Vertx vertx) throws Exception {
    // A server that says 354 with no recipient: the client ends the empty message at once and stays in step.
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().rcpt("bad@x.example", 550)
        .reply(Step.DATA, 354));
    SmtpClientConnection c = await(SmtpClientConnection.open(vertx, client, host(server), options));
    for (int i = 1; i <= 2; i++) {
      MessageResult r = await(c.send(message(dataFile(dir, "m" + i, BODY), "bad@x.example")));
      assertEquals(DeliveryStatus.FAILED, r.recipients().get(0).status());
      assertEquals(550, r.recipients().get(0).code(), r.recipients().get(0).text());
      assertNull(r.hostProblem());
    }
    assertTrue(c.usable());
    await(c.quit());
    assertEquals(2, server.commands(".").size(), server.commands().toString());
    assertEquals(0, server.commands("SUBJECT").size(), "no content sent: " + server.commands());
    assertEquals(1, server.commands("RSET").size(), server.commands().toString());
  }

  @Test
  void temporaryErrorAtMailDefersAll(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().reply(Step.MAIL, 451));
    MessageResult r = deliver(vertx, client, host(server), options,
        message(dataFile(dir, "m", BODY), "a@x.example", "b@x.example"));
    assertEquals(2, r.with(DeliveryStatus.DEFERRED).size());
    assertNull(r.hostProblem(), "the server answered: not a connection problem");
    assertEquals(451, r.recipients().get(1).code());
  }

  @Test
  void permanentErrorAtMailFailsAllWithoutPipelining(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().pipelining(false).reply(Step.MAIL, 550));
    MessageResult r = deliver(vertx, client, host(server), options,
        message(dataFile(dir, "m", BODY), "a@x.example", "b@x.example"));
    assertEquals(2, r.with(DeliveryStatus.FAILED).size());
    assertEquals(0, server.commands("RCPT").size(), "no RCPT after a refused MAIL");
  }

  @Test
  void errorsAtDataAffectTheAcceptedRecipientsOnly(Vertx vertx) throws Exception {
    for (int code : new int[] {451, 554}) {
      ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().reply(Step.DATA, code)
          .rcpt("bad@x.example", 550));
      MessageResult r = deliver(vertx, client, host(server), options,
          message(dataFile(dir, "m", BODY), "a@x.example", "bad@x.example"));
      assertEquals(code < 500 ? DeliveryStatus.DEFERRED : DeliveryStatus.FAILED, r.recipients().get(0).status());
      assertEquals(code, r.recipients().get(0).code());
      assertTrue(r.recipients().get(0).text().startsWith("SMTP error from remote mail server after DATA: " + code),
          r.recipients().get(0).text());
      assertEquals(DeliveryStatus.FAILED, r.recipients().get(1).status());
      assertEquals(550, r.recipients().get(1).code());
    }
  }

  @Test
  void errorsAfterTheDotDeferOrFail(Vertx vertx) throws Exception {
    for (int code : new int[] {452, 550}) {
      ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().reply(Step.DOT, code));
      SmtpClientConnection c = await(SmtpClientConnection.open(vertx, client, host(server), options));
      MessageResult r = await(c.send(message(dataFile(dir, "m", BODY), "a@x.example", "b@x.example")));
      assertEquals(2, r.with(code < 500 ? DeliveryStatus.DEFERRED : DeliveryStatus.FAILED).size());
      assertTrue(r.recipients().get(1).text().startsWith("SMTP error from remote mail server after end of data: "
          + code), r.recipients().get(1).text());
      assertTrue(c.usable(), "a refused message does not spoil the connection");
      await(c.quit());
      assertEquals(0, server.commands("RSET").size());
    }
  }

  @Test
  void recipientsBeyondMaxRcptGoInFurtherTransactions(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create());
    String[] rcpts = IntStream.rangeClosed(1, 5).mapToObj(i -> "r" + i + "@x.example").toArray(String[]::new);
    MessageResult r = deliver(vertx, client, host(server), options(dir, "max_rcpt: 2\n"),
        message(dataFile(dir, "m", BODY), rcpts));
    assertEquals(5, r.with(DeliveryStatus.DELIVERED).size());
    assertEquals(List.of(List.of("r1@x.example", "r2@x.example"), List.of("r3@x.example", "r4@x.example"),
        List.of("r5@x.example")), server.envelopes().stream().map(ScriptedSmtpServer.Envelope::recipients).toList());
    assertEquals(1, server.connections());
  }

  @Test
  void ehloRefusedFallsBackToHelo(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().refuseEhlo());
    MessageResult r = deliver(vertx, client, host(server), options, message(dataFile(dir, "m", BODY), "a@x.example"));
    assertEquals(DeliveryStatus.DELIVERED, r.recipients().get(0).status());
    assertEquals(List.of("HELO " + SmtpClientTesting.HELO), server.commands("HELO").stream()
        .map(ScriptedSmtpServer.Command::line).toList());
    assertEquals("", server.envelopes().get(0).mailParameters(), "no ESMTP parameters after HELO");
  }

  @Test
  void heloDataIsSent(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create());
    deliver(vertx, client, host(server), options(dir, "helo_data: relay.example.org\n"),
        message(dataFile(dir, "m", BODY), "a@x.example"));
    assertEquals("EHLO relay.example.org", server.commands("EHLO").get(0).line());
  }

  @Test
  void connectionMaxMessagesEndsUsability(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create());
    SmtpClientConnection c = await(SmtpClientConnection.open(vertx, client, host(server),
        options(dir, "connection_max_messages: 2\n")));
    await(c.send(message(dataFile(dir, "m1", BODY), "a@x.example")));
    assertTrue(c.usable());
    await(c.send(message(dataFile(dir, "m2", BODY), "a@x.example")));
    assertFalse(c.usable());
    await(c.quit());
  }
}
