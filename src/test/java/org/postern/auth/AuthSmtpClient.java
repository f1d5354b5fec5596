package org.postern.auth;

import org.postern.testing.SmtpTestClient.Reply;
import org.postern.testing.TlsSmtp;

import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The AUTH tests' view of {@link TlsSmtp}: connect (optionally from another loopback address),
 * EHLO, STARTTLS, and read the AUTH keyword of an EHLO reply. All the SMTP and TLS I/O is
 * {@link TlsSmtp}'s.
 */
final class AuthSmtpClient implements AutoCloseable {
  private final TlsSmtp client;
  private boolean encrypted;

  private AuthSmtpClient(TlsSmtp client) {
    this.client = client;
  }

  /** Connects from {@code source} (a loopback address, or null) and reads the 220 greeting. */
  static AuthSmtpClient connect(String source, int port) throws IOException {
    return new AuthSmtpClient(TlsSmtp.connectFrom(source, port));
  }

  static AuthSmtpClient connect(int port) throws IOException {
    return connect(null, port);
  }

  /** Connects, greets with EHLO and returns the client (its EHLO reply is asserted to be 250). */
  static AuthSmtpClient ehloed(String source, int port) throws IOException {
    AuthSmtpClient c = connect(source, port);
    c.ehlo("client.test.example");
    return c;
  }

  /** STARTTLS (220 2.0.0 expected), a verified handshake, then EHLO again, whose reply is returned. */
  Reply startTlsAndEhlo(SSLContext context) throws IOException {
    client.startTls(context);
    encrypted = true;
    return ehlo("client.test.example");
  }

  boolean encrypted() {
    return encrypted;
  }

  void timeout(int millis) throws IOException {
    client.timeout(millis);
  }

  void send(String text) throws IOException {
    client.send(text);
  }

  Reply command(String line) throws IOException {
    return client.command(line);
  }

  Reply ehlo(String name) throws IOException {
    Reply r = client.command("EHLO " + name);
    assertEquals(250, r.code(), r.toString());
    return r;
  }

  static List<String> keywords(Reply ehlo) {
    return TlsSmtp.keywords(ehlo);
  }

  /** The AUTH keyword line of an EHLO reply ("AUTH PLAIN LOGIN ..."), or null when AUTH is not offered. */
  static String authLine(Reply ehlo) {
    for (String k : keywords(ehlo)) {
      if (k.equals("AUTH") || k.startsWith("AUTH ")) {
        return k;
      }
    }
    return null;
  }

  /** MAIL, RCPT, DATA and a small message, each asserted to succeed; returns the queue id. */
  String sendMessage(String from, String to, String subject) throws IOException {
    return client.sendMessage(from, to, subject);
  }

  Reply reply() throws IOException {
    return client.reply();
  }

  boolean closedByServer(int millis) throws IOException {
    return client.closedByServer(millis);
  }

  @Override
  public void close() {
    client.close();
  }
}
