package org.postern.testing;

import org.postern.testing.SmtpTestClient.Reply;

import java.io.IOException;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * An SMTP transcript whose replies are all checked with {@link #assertWellFormed}, over a real
 * socket or in memory ({@link SmtpClientSide}): the client already refuses lines that are not
 * {@code ddd-text} / {@code ddd text} ended by CRLF, and this adds that the code is a valid RFC 5321
 * code and that (except for the greeting, HELO/EHLO and 354) every line carries an enhanced status
 * code whose class matches the reply's first digit.
 */
public final class CheckedSmtp implements AutoCloseable {
  private static final Pattern ENHANCED = Pattern.compile("([245])\\.(\\d{1,3})\\.(\\d{1,3})(?: .*)?");

  public final SmtpClientSide client;
  public final Reply greeting;

  private CheckedSmtp(SmtpClientSide client) throws IOException {
    this.client = client;
    this.greeting = client.reply();
    assertWellFormed(greeting, true);
    assertEquals(220, greeting.code(), "greeting: " + greeting);
  }

  /** Over a socket to the server's smtp port. */
  public static CheckedSmtp connect(PosternTestServer s) throws IOException {
    return new CheckedSmtp(SmtpTestClient.connect(s.port()));
  }

  /** Over a socket from a chosen loopback source address. */
  public static CheckedSmtp connectFrom(String address, PosternTestServer s) throws IOException {
    return new CheckedSmtp(SmtpTestClient.connectFrom(address, s.port()));
  }

  /** In memory ({@link InMemorySmtp}), from 127.0.0.1, to a {@link PosternTestServer#startSessions()} server. */
  public static CheckedSmtp inMemory(PosternTestServer s) throws IOException {
    return new CheckedSmtp(InMemorySmtp.connect(s));
  }

  /** In memory from {@code address}. */
  public static CheckedSmtp inMemoryFrom(String address, PosternTestServer s) throws IOException {
    return new CheckedSmtp(InMemorySmtp.connectFrom(s, address));
  }

  /**
   * Checks one reply: the code is a valid RFC 5321 code and, unless {@code exempt} (greeting,
   * HELO/EHLO) or the reply is 354, each line starts with an RFC 3463 enhanced status code whose
   * class equals the reply code's first digit. Where an exempt reply carries one, it must match
   * too. Line syntax ({@code ddd[ -]text CRLF}) is already enforced by {@link SmtpTestClient}.
   */
  public static void assertWellFormed(Reply r, boolean exempt) {
    int code = r.code();
    assertTrue(code >= 200 && code <= 599 && (code / 10) % 10 <= 5, "invalid reply code: " + r);
    assertFalse(r.lines().isEmpty(), "reply without lines");
    boolean required = !exempt && code != 354;
    for (String line : r.lines()) {
      Matcher m = ENHANCED.matcher(line);
      if (m.matches()) {
        assertEquals(String.valueOf(code / 100), m.group(1),
            "enhanced code class must match the reply code: " + r);
      } else if (required) {
        fail("reply line without an enhanced status code: " + code + " " + line + " (in " + r + ")");
      }
    }
  }

  public static void assertReply(Reply r, int code, String enhanced) {
    assertEquals(code, r.code(), "reply code of: " + r);
    if (enhanced != null) {
      assertEquals(enhanced, r.enhanced(), "enhanced status code of: " + r);
    }
  }

  /** Reads one reply (not a HELO/EHLO answer). */
  public Reply read() throws IOException {
    Reply r = client.reply();
    assertWellFormed(r, false);
    return r;
  }

  public Reply cmd(String line) throws IOException {
    client.send(line + "\r\n");
    return read();
  }

  public Reply expect(String line, int code, String enhanced) throws IOException {
    String shown = line.length() > 80 ? line.substring(0, 80) + "..." : line;
    client.send(line + "\r\n");
    boolean greetingCommand = line.regionMatches(true, 0, "HELO", 0, 4) || line.regionMatches(true, 0, "EHLO", 0, 4);
    Reply r = client.reply();
    assertWellFormed(r, greetingCommand && r.code() == 250);
    assertEquals(code, r.code(), shown + " -> " + r);
    if (enhanced != null) {
      assertEquals(enhanced, r.enhanced(), shown + " -> " + r);
    }
    return r;
  }

  public Reply ehlo(String name) throws IOException {
    return ehlo(name, "EHLO");
  }

  public Reply ehlo(String name, String verb) throws IOException {
    client.send(verb + " " + name + "\r\n");
    Reply r = client.reply();
    assertWellFormed(r, true);
    assertEquals(250, r.code(), "EHLO -> " + r);
    return r;
  }

  public Reply helo(String name) throws IOException {
    client.send("HELO " + name + "\r\n");
    Reply r = client.reply();
    assertWellFormed(r, true);
    assertEquals(250, r.code(), "HELO -> " + r);
    return r;
  }

  /** Sends content (CRLF-terminated lines) and the final dot; returns the reply, unchecked. */
  public Reply messageReply(String content) throws IOException {
    client.send(content + ".\r\n");
    return read();
  }

  /** Sends content and the final dot; the message must be accepted. */
  public Reply message(String content) throws IOException {
    Reply r = messageReply(content);
    assertReply(r, 250, "2.0.0");
    return r;
  }

  public void quit() throws IOException {
    expect("QUIT", 221, "2.0.0");
  }

  public void assertClosed() throws Exception {
    assertTrue(client.closedByServer(Duration.ofSeconds(3)), "the server must close the connection");
  }

  @Override
  public void close() throws Exception {
    client.close();
  }
}
