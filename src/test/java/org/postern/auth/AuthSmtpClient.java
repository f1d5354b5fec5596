package org.postern.auth;

import org.postern.testing.SmtpTestClient.Reply;
import org.postern.testing.TestPki;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A raw SMTP client for the AUTH tests that can switch to TLS with STARTTLS (the TLS tests' client
 * is package-private to {@code org.postern.tls}). Replies are parsed strictly: CRLF line ends,
 * {@code ddd-}/{@code ddd } lines, one code per reply. Reads are unbuffered, so nothing sent after
 * a reply is swallowed before a handshake.
 */
final class AuthSmtpClient implements AutoCloseable {
  private static final Pattern QUEUED_ID = Pattern.compile("id=(\\S+)");

  private final Socket raw;
  private Socket socket;
  private InputStream in;
  private OutputStream out;
  private SSLSocket tls;

  private AuthSmtpClient(Socket raw) throws IOException {
    this.raw = raw;
    raw.setSoTimeout(10_000);
    raw.setTcpNoDelay(true);
    use(raw);
  }

  /** Connects from {@code source} (a loopback address, or null) and reads the 220 greeting. */
  static AuthSmtpClient connect(String source, int port) throws IOException {
    Socket s = new Socket();
    if (source != null) {
      s.bind(new InetSocketAddress(source, 0));
    }
    s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5000);
    AuthSmtpClient c = new AuthSmtpClient(s);
    Reply greeting = c.reply();
    if (greeting.code() != 220) {
      c.close();
      throw new IOException("expected a 220 greeting, got " + greeting);
    }
    return c;
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

  /**
   * STARTTLS (220 2.0.0 expected) and a handshake that trusts the context's anchors and checks the
   * certificate names {@value TestPki#SERVER_NAME}; then EHLO again, whose reply is returned.
   */
  Reply startTlsAndEhlo(SSLContext context) throws IOException {
    Reply ready = command("STARTTLS");
    assertEquals(220, ready.code(), ready.toString());
    assertEquals("2.0.0", ready.enhanced(), ready.toString());
    SSLSocket s = (SSLSocket) context.getSocketFactory().createSocket(raw, TestPki.SERVER_NAME, raw.getPort(), true);
    SSLParameters p = s.getSSLParameters();
    p.setEndpointIdentificationAlgorithm("HTTPS");
    p.setServerNames(List.of(new SNIHostName(TestPki.SERVER_NAME)));
    s.setSSLParameters(p);
    s.setUseClientMode(true);
    s.setSoTimeout(10_000);
    s.startHandshake();
    tls = s;
    use(s);
    return ehlo("client.test.example");
  }

  boolean encrypted() {
    return tls != null;
  }

  private void use(Socket s) throws IOException {
    socket = s;
    in = s.getInputStream();
    out = s.getOutputStream();
  }

  void timeout(int millis) throws IOException {
    socket.setSoTimeout(millis);
  }

  void send(String text) throws IOException {
    out.write(text.getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  Reply command(String line) throws IOException {
    send(line + "\r\n");
    return reply();
  }

  Reply ehlo(String name) throws IOException {
    Reply r = command("EHLO " + name);
    assertEquals(250, r.code(), r.toString());
    return r;
  }

  /** The EHLO keywords (the lines after the first). */
  static List<String> keywords(Reply ehlo) {
    return ehlo.lines().subList(1, ehlo.lines().size());
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
    Reply mail = command("MAIL FROM:<" + from + ">");
    assertEquals(250, mail.code(), mail.toString());
    Reply rcpt = command("RCPT TO:<" + to + ">");
    assertEquals(250, rcpt.code(), rcpt.toString());
    Reply data = command("DATA");
    assertEquals(354, data.code(), data.toString());
    Reply r = command("From: <" + from + ">\r\nTo: <" + to + ">\r\nSubject: " + subject + "\r\n\r\n"
        + "Sent by a Postern AUTH test.\r\n.");
    assertEquals(250, r.code(), r.toString());
    Matcher m = QUEUED_ID.matcher(r.text());
    if (!m.find()) {
      throw new IOException("no id in " + r);
    }
    return m.group(1);
  }

  /** Reads one complete reply. */
  Reply reply() throws IOException {
    List<String> lines = new ArrayList<>();
    int code = -1;
    while (true) {
      String line = readLine();
      if (line == null) {
        throw new IOException("connection closed after " + lines);
      }
      if (line.length() < 3 || !line.substring(0, 3).matches("[2-5]\\d\\d")
          || (line.length() > 3 && line.charAt(3) != ' ' && line.charAt(3) != '-')) {
        throw new IOException("malformed reply line: " + line);
      }
      int c = Integer.parseInt(line.substring(0, 3));
      if (code >= 0 && c != code) {
        throw new IOException("reply code changed inside a multi-line reply: " + line);
      }
      code = c;
      lines.add(line.length() > 4 ? line.substring(4) : "");
      if (line.length() == 3 || line.charAt(3) == ' ') {
        return new Reply(code, lines);
      }
    }
  }

  /** True when the server ends the connection (EOF or reset) within the timeout; data read instead is an error. */
  boolean closedByServer(int millis) throws IOException {
    socket.setSoTimeout(millis);
    try {
      int b = in.read();
      if (b >= 0) {
        throw new IOException("expected the connection to be closed, read byte " + b);
      }
      return true;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      if (e.getMessage() != null && e.getMessage().startsWith("expected the connection")) {
        throw e;
      }
      return true;
    }
  }

  private String readLine() throws IOException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    int prev = -1;
    while (true) {
      int b = in.read();
      if (b < 0) {
        return buf.size() == 0 ? null : buf.toString(StandardCharsets.UTF_8);
      }
      if (b == '\n') {
        if (prev != '\r') {
          throw new IOException("reply line ended by bare LF");
        }
        byte[] bytes = buf.toByteArray();
        return new String(bytes, 0, bytes.length - 1, StandardCharsets.UTF_8);
      }
      buf.write(b);
      prev = b;
    }
  }

  @Override
  public void close() {
    try {
      if (tls != null) {
        tls.close();
      }
    } catch (IOException e) {
      // closing anyway
    }
    try {
      raw.close();
    } catch (IOException e) {
      // closed
    }
  }
}
