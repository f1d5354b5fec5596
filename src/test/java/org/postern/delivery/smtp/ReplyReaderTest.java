package org.postern.delivery.smtp;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postern.smtp.SmtpReply;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.postern.delivery.smtp.SmtpClientTesting.await;

/** Reply parsing: multi-line replies, enhanced codes, any chunking, and sticky breakage. */
@ExtendWith(VertxExtension.class)
@Timeout(30)
class ReplyReaderTest {
  private static final Duration LONG = Duration.ofSeconds(10);

  @Test
  void multiLineReplyWithEnhancedCodesSurvivesEverySplit(Vertx vertx) throws Exception {
    String wire = "250-2.0.0 first\r\n250-2.0.0 second\r\n250 2.0.0 last\r\n554 5.7.1 no\r\n";
    for (int i = 0; i <= wire.length(); i++) {
      ReplyReader r = new ReplyReader(vertx);
      r.feed(Buffer.buffer(wire.substring(0, i)));
      r.feed(Buffer.buffer(wire.substring(i)));
      SmtpReply first = await(r.next("x", LONG));
      assertEquals(new SmtpReply(250, "2.0.0", List.of("first", "second", "last")), first, "split " + i);
      SmtpReply second = await(r.next("y", LONG));
      assertEquals(554, second.code());
      assertEquals("5.7.1", second.enhanced());
    }
  }

  @Test
  void replyWithoutTextOrEnhancedCode(Vertx vertx) throws Exception {
    ReplyReader r = new ReplyReader(vertx);
    r.feed(Buffer.buffer("250\r\n220 ready\n"));
    SmtpReply a = await(r.next("x", LONG));
    assertEquals(250, a.code());
    assertNull(a.enhanced());
    assertEquals("ready", await(r.next("x", LONG)).text());
  }

  @Test
  void mixedCodesInOneReplyAreMalformed(Vertx vertx) {
    ReplyReader r = new ReplyReader(vertx);
    r.feed(Buffer.buffer("250-a\r\n251 b\r\n"));
    HostDeferral d = assertThrows(HostDeferral.class, () -> await(r.next("EHLO x", LONG)));
    assertEquals("Malformed SMTP reply in response to EHLO x: \"251 b\"", d.getMessage());
  }

  @Test
  void controlCharactersInGarbageAreNotLogged(Vertx vertx) {
    ReplyReader r = new ReplyReader(vertx);
    r.feed(Buffer.buffer("hi\u001b[31m\r\n"));
    HostDeferral d = assertThrows(HostDeferral.class, () -> await(r.next("MAIL", LONG)));
    assertEquals("Malformed SMTP reply in response to MAIL: \"hi?[31m\"", d.getMessage());
  }

  @Test
  void overlongLineIsMalformed(Vertx vertx) {
    ReplyReader r = new ReplyReader(vertx);
    r.feed(Buffer.buffer("250 " + "x".repeat(20_000)));
    assertThrows(HostDeferral.class, () -> await(r.next("DATA", LONG)));
  }

  @Test
  void timeoutIsStickyAndLateRepliesAreIgnored(Vertx vertx) throws Exception {
    ReplyReader r = new ReplyReader(vertx);
    Future<SmtpReply> f = r.next("RCPT TO:<a@b>", Duration.ofMillis(50));
    HostDeferral d = assertThrows(HostDeferral.class, () -> await(f));
    assertEquals("SMTP timeout after RCPT TO:<a@b>", d.getMessage());
    r.feed(Buffer.buffer("250 late\r\n"));
    HostDeferral again = assertThrows(HostDeferral.class, () -> await(r.next("DATA", LONG)));
    assertEquals("SMTP timeout after DATA", again.getMessage());
  }

  @Test
  void repliesReadBeforeACloseAreStillHandedOut(Vertx vertx) throws Exception {
    ReplyReader r = new ReplyReader(vertx);
    r.feed(Buffer.buffer("221 bye\r\n"));
    r.closed(null);
    assertEquals(221, await(r.next("QUIT", LONG)).code());
    HostDeferral d = assertThrows(HostDeferral.class, () -> await(r.next("MAIL", LONG)));
    assertEquals("Remote host closed connection in response to MAIL", d.getMessage());
  }

  @Test
  void discardingFromAContinuationDropsTheRestOfTheChunk(Vertx vertx) throws Exception {
    ReplyReader r = new ReplyReader(vertx);
    // As for STARTTLS: the waiter of the 220 discards whatever else came in clear.
    Future<Void> handled = r.next("STARTTLS", LONG).map(reply -> {
      r.discardBuffered();
      return null;
    });
    r.feed(Buffer.buffer("220 go ahead\r\n550 injected\r\n"));
    await(handled);
    r.feed(Buffer.buffer("250 real\r\n"));
    assertEquals("real", await(r.next("EHLO x", LONG)).text());
  }
}
