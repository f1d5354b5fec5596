package org.postern.testing;

import org.postern.testing.SmtpTestClient.Reply;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A small SMTP client that can switch to TLS: plaintext over a TCP socket, then (after STARTTLS, or
 * at once for implicit TLS) an {@link SSLSocket} layered over the same connection. Replies are
 * parsed strictly (CRLF, {@code ddd-}/{@code ddd } lines, one code per reply). Reads are
 * unbuffered, so nothing the server sends after a reply can be swallowed before the handshake.
 */
public final class TlsSmtp implements AutoCloseable {
  private static final Pattern QUEUED_ID = Pattern.compile("id=(\\S+)");

  private final Socket raw;
  private Socket socket;
  private InputStream in;
  private OutputStream out;
  private SSLSocket tls;

  private TlsSmtp(Socket raw) throws IOException {
    this.raw = raw;
    raw.setSoTimeout(10_000);
    raw.setTcpNoDelay(true);
    use(raw);
  }

  /** A TCP connection from {@code source} (a loopback address, or null for the default); nothing read yet. */
  public static TlsSmtp open(String source, int port) throws IOException {
    Socket s = new Socket();
    if (source != null) {
      s.bind(new InetSocketAddress(source, 0));
    }
    s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5000);
    return new TlsSmtp(s);
  }

  /** As {@link #open(String, int)}, to a given loopback address ({@code ::1} for an IPv6 listener). */
  public static TlsSmtp open(String source, String host, int port) throws IOException {
    Socket s = new Socket();
    if (source != null) {
      s.bind(new InetSocketAddress(source, 0));
    }
    s.connect(new InetSocketAddress(InetAddress.getByName(host), port), 5000);
    return new TlsSmtp(s);
  }

  /** Plaintext connection whose 220 greeting has been read. */
  public static TlsSmtp connect(int port) throws IOException {
    return connectFrom(null, port);
  }

  public static TlsSmtp connectFrom(String source, int port) throws IOException {
    TlsSmtp c = open(source, port);
    c.expect(220, c.reply());
    return c;
  }

  /** Implicit TLS (RFC 8314): the handshake first; the greeting is not read yet. */
  public static TlsSmtp implicit(String source, int port, SSLContext context) throws IOException {
    TlsSmtp c = open(source, port);
    try {
      c.handshake(context, s -> { });
    } catch (IOException | RuntimeException e) {
      c.close();
      throw e;
    }
    return c;
  }

  /** EHLO, STARTTLS (expects 220 2.0.0) and the handshake, with a client that trusts the context's anchors. */
  public SSLSocket startTls(SSLContext context) throws IOException {
    return startTls(context, s -> { });
  }

  public SSLSocket startTls(SSLContext context, Consumer<SSLSocket> configure) throws IOException {
    Reply r = command("STARTTLS");
    expect(220, r);
    if (!r.text().startsWith("2.0.0 ")) {
      throw new IOException("STARTTLS reply without 2.0.0: " + r);
    }
    return handshake(context, configure);
  }

  /**
   * Layers TLS over the current connection and completes the handshake. The client checks the
   * server certificate against the context's trust anchors and that it names {@value TestPki#SERVER_NAME}
   * (sent as SNI).
   */
  public SSLSocket handshake(SSLContext context, Consumer<SSLSocket> configure) throws IOException {
    SSLSocket s = (SSLSocket) context.getSocketFactory().createSocket(raw, TestPki.SERVER_NAME, raw.getPort(), true);
    SSLParameters p = s.getSSLParameters();
    p.setEndpointIdentificationAlgorithm("HTTPS");
    p.setServerNames(List.of(new SNIHostName(TestPki.SERVER_NAME)));
    s.setSSLParameters(p);
    s.setUseClientMode(true);
    configure.accept(s);
    s.setSoTimeout(10_000);
    s.startHandshake();
    tls = s;
    use(s);
    return s;
  }

  private void use(Socket s) throws IOException {
    socket = s;
    in = s.getInputStream();
    out = s.getOutputStream();
  }

  public SSLSession session() {
    return tls == null ? null : tls.getSession();
  }

  /** The server's leaf certificate of the current TLS session. */
  public X509Certificate serverCertificate() throws IOException {
    return (X509Certificate) tls.getSession().getPeerCertificates()[0];
  }

  public Socket rawSocket() {
    return raw;
  }

  public int localPort() {
    return raw.getLocalPort();
  }

  public void timeout(int millis) throws IOException {
    socket.setSoTimeout(millis);
  }

  /** Writes text through the current layer (TLS once started). */
  public void send(String text) throws IOException {
    out.write(text.getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  /** Writes bytes on the TCP socket underneath, bypassing TLS: what a man in the middle could inject. */
  public void sendPlaintext(byte[] bytes) throws IOException {
    OutputStream o = raw.getOutputStream();
    o.write(bytes);
    o.flush();
  }

  public Reply command(String line) throws IOException {
    send(line + "\r\n");
    return reply();
  }

  public Reply ehlo(String name) throws IOException {
    Reply r = command("EHLO " + name);
    expect(250, r);
    return r;
  }

  /** The EHLO keywords (the lines after the first). */
  public static List<String> keywords(Reply ehlo) {
    return ehlo.lines().subList(1, ehlo.lines().size());
  }

  /** MAIL, RCPT, DATA and a small message; returns the queue id from the final 250. */
  public String sendMessage(String from, String to, String subject) throws IOException {
    expect(250, command("MAIL FROM:<" + from + ">"));
    expect(250, command("RCPT TO:<" + to + ">"));
    expect(354, command("DATA"));
    Reply r = command("From: <" + from + ">\r\nTo: <" + to + ">\r\nSubject: " + subject + "\r\n\r\n"
        + "Sent over TLS by a Postern test.\r\n.");
    expect(250, r);
    Matcher m = QUEUED_ID.matcher(r.text());
    if (!m.find()) {
      throw new IOException("no id in " + r);
    }
    return m.group(1);
  }

  /**
   * One REQUIRETLS transaction (RFC 8689): EHLO, STARTTLS trusting any certificate, EHLO again,
   * {@code MAIL ... REQUIRETLS}, one RCPT and {@code content} (dot-stuffed, without the final dot)
   * as DATA; returns the queue id from the final 250.
   */
  public static String submitRequireTls(int port, String from, String to, String content)
      throws IOException, GeneralSecurityException {
    SSLContext trusting = SSLContext.getInstance("TLS");
    trusting.init(null, new TrustManager[] {new TrustEverything()}, null);
    try (TlsSmtp c = connect(port)) {
      c.ehlo("client.example");
      c.startTls(trusting);
      c.ehlo("client.example");
      expect(250, c.command("MAIL FROM:<" + from + "> REQUIRETLS"));
      expect(250, c.command("RCPT TO:<" + to + ">"));
      expect(354, c.command("DATA"));
      Reply r = c.command(content + ".");
      expect(250, r);
      Matcher m = QUEUED_ID.matcher(r.text());
      if (!m.find()) {
        throw new IOException("no id in " + r);
      }
      return m.group(1);
    }
  }

  public static void expect(int code, Reply r) throws IOException {
    if (r.code() != code) {
      throw new IOException("expected " + code + ", got " + r);
    }
  }

  /** Reads one complete reply. */
  public Reply reply() throws IOException {
    return SmtpTestClient.readReply(in);
  }

  /** True when the server ends the connection (EOF or reset) within the timeout; data read instead is an error. */
  public boolean closedByServer(int millis) throws IOException {
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
