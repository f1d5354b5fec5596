package org.postern.testing;

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

/**
 * A deliberately raw SMTP client for tests: sends exactly the bytes it is given (bare LFs, NULs,
 * pipelined groups, half commands) and parses replies strictly (every line must be
 * {@code ddd-} or {@code ddd } and end with CRLF).
 */
public final class SmtpTestClient implements SmtpClientSide {
  /** One parsed reply. */
  public record Reply(int code, List<String> lines) {
    public String text() {
      return String.join("\n", lines);
    }

    /** The enhanced status code of the first line, or "" when absent. */
    public String enhanced() {
      String first = lines.get(0);
      int sp = first.indexOf(' ');
      String word = sp < 0 ? first : first.substring(0, sp);
      return word.matches("[245]\\.\\d{1,3}\\.\\d{1,3}") ? word : "";
    }

    @Override
    public String toString() {
      return code + " " + text();
    }
  }

  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;

  private SmtpTestClient(Socket socket) throws IOException {
    this.socket = socket;
    this.socket.setSoTimeout(10_000);
    this.in = socket.getInputStream();
    this.out = socket.getOutputStream();
  }

  public static SmtpTestClient connect(int port) throws IOException {
    return new SmtpTestClient(new Socket(InetAddress.getLoopbackAddress(), port));
  }

  /** Connects from a chosen loopback source address, e.g. 127.0.0.2 (not a relay host). */
  public static SmtpTestClient connectFrom(String sourceAddress, int port) throws IOException {
    Socket s = new Socket();
    s.bind(new InetSocketAddress(sourceAddress, 0));
    s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5000);
    return new SmtpTestClient(s);
  }

  /** How the server's main log names this client: {@code [address]:port}. */
  public String hostForLog() {
    return "[" + socket.getLocalAddress().getHostAddress() + "]:" + socket.getLocalPort();
  }

  public void timeout(int millis) throws IOException {
    socket.setSoTimeout(millis);
  }

  @Override
  public void send(String text) throws IOException {
    sendRaw(text.getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public void sendRaw(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
  }

  /**
   * One whole transaction on a new connection: EHLO, {@code MAIL FROM:mailFrom} (parameters may
   * follow the path), one RCPT per item, and {@code message} (dot-terminated here); each reply must
   * be positive. Returns the queue id from the final 250.
   */
  public static String submit(int port, String mailFrom, String message, String... rcpts) throws IOException {
    try (SmtpTestClient c = connect(port)) {
      c.reply();
      expectCode(250, c.command("EHLO client.example"));
      expectCode(250, c.command("MAIL FROM:" + mailFrom));
      for (String r : rcpts) {
        expectCode(250, c.command("RCPT TO:" + r));
      }
      expectCode(354, c.command("DATA"));
      Reply done = c.command(message + ".");
      expectCode(250, done);
      return done.text().substring(done.text().indexOf("id=") + 3).strip();
    }
  }

  private static void expectCode(int code, Reply r) throws IOException {
    if (r.code() != code) {
      throw new IOException("expected " + code + ", got " + r);
    }
  }

  /** Sends one command line (CRLF added) and reads its reply. */
  public Reply command(String line) throws IOException {
    send(line + "\r\n");
    return reply();
  }

  /** Reads one complete reply. */
  @Override
  public Reply reply() throws IOException {
    return readReply(in);
  }

  /** Reads one complete reply from any stream (plain or TLS), strictly. */
  public static Reply readReply(InputStream in) throws IOException {
    List<String> lines = new ArrayList<>();
    int code = -1;
    while (true) {
      String line = readLine(in);
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

  /** True when the server closed the connection (reads EOF within the timeout). */
  public boolean closedByServer() throws IOException {
    try {
      return in.read() < 0;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true;
    }
  }

  @Override
  public boolean closedByServer(java.time.Duration within) throws IOException {
    timeout((int) within.toMillis());
    return closedByServer();
  }

  /** Reads a CRLF-terminated line; a bare LF in a reply is a test failure. */
  private static String readLine(InputStream in) throws IOException {
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
  public void close() throws IOException {
    socket.close();
  }
}
