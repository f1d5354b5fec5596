package org.postern.tls;

import org.postern.testing.TlsSmtp;
import org.postern.listener.ListenerVerticle;
import org.postern.testing.Await;
import org.postern.testing.MainLogFile;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient.Reply;
import org.postern.testing.TestPki;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

/** Shared set-up and checks of the TLS tests. */
final class TlsTesting {
  static final Path MAINLOG = Path.of(System.getProperty("postern.log.dir", "target/test-logs"), "mainlog");

  private TlsTesting() {
  }

  /**
   * A server with the test PKI's RSA certificate ({@code tls_certificate}/{@code tls_privatekey} in
   * {@code <root>/certs}), the CA in {@code <root>/certs/ca.pem}, and, when {@code implicit}, a
   * second listener "smtps" on a free port listed in {@code tls_on_connect_ports}. Not started.
   */
  static PosternTestServer server(TestPki pki, boolean implicit) throws IOException {
    return server(pki, pki.server(), implicit);
  }

  static PosternTestServer server(TestPki pki, TestPki.Credential certificate, boolean implicit) throws IOException {
    PosternTestServer s = PosternTestServer.create();
    Path certs = s.root().resolve("certs");
    TestPki.ServerFiles files = pki.writeServer(certs, "server", certificate);
    pki.writeCa(certs);
    s.option("tls_certificate", quote(files.certificate()))
        .option("tls_privatekey", quote(files.key()))
        .option("tls_directory", "../tls")
        // These tests expect one main-log line per failed handshake; the default limit is tested on its own.
        .option("connection_error_log_rate", "0");
    if (implicit) {
      int port = freePort();
      s.option("listeners", "{ smtp: { address: 127.0.0.1, port: 0 }, smtps: { address: 127.0.0.1, port: " + port
          + " } }").option("tls_on_connect_ports", Integer.toString(port));
    } else {
      // No implicit-TLS listener unless asked for (the default list names 2465, which nothing here binds).
      s.option("tls_on_connect_ports", "\"\"");
    }
    return s;
  }

  static Path caFile(PosternTestServer s) {
    return s.root().resolve("certs").resolve("ca.pem");
  }

  static String quote(Path p) {
    return "\"" + p.toAbsolutePath().toString().replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  /** A port that was free a moment ago (port 0 cannot be listed in tls_on_connect_ports). */
  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** The bound port of a named listener. */
  static int port(PosternTestServer s, String listener) {
    Integer p = s.vertx().sharedData().<String, Integer>getLocalMap(ListenerVerticle.PORTS).get(listener);
    if (p == null) {
      throw new IllegalStateException("listener " + listener + " is not listening");
    }
    return p;
  }

  /** Waits for the main-log arrival line ({@code <id> <= ...}) of a message. */
  static String arrivalLine(String id) throws Exception {
    return awaitMainlog(id + " <= ", 5000)
        .orElseThrow(() -> new AssertionError("no arrival line for " + id + " in " + MAINLOG));
  }

  /** The first main-log line containing {@code text}, waiting up to {@code millis} (the log is written asynchronously). */
  static Optional<String> awaitMainlog(String text, long millis) throws Exception {
    return MainLogFile.ofTestJvm().find(millis, text);
  }

  /** Main-log lines containing {@code text}, as of now. */
  static List<String> mainlogLines(String text) throws IOException {
    return MainLogFile.ofTestJvm().lines(text);
  }

  /** The delivered message of {@code user} whose Received header carries {@code id}, unfolded. */
  static String deliveredReceived(PosternTestServer s, String user, String id) throws Exception {
    Optional<String> received = Await.value(5000, () -> {
      for (Path f : s.mailbox(user)) {
        String r = receivedHeader(Files.readString(f, StandardCharsets.UTF_8));
        if (r.contains("id " + id)) {
          return Optional.of(r);
        }
      }
      return Optional.<String>empty();
    }, Optional::isPresent);
    if (received.isEmpty()) {
      fail("no message with id " + id + " delivered to " + user + ": " + s.mailbox(user));
    }
    return received.get();
  }

  /** The first Received: header of a message (the one Postern added), unfolded; "" when there is none. */
  static String receivedHeader(String message) {
    String[] lines = message.split("\r?\n", -1);
    for (int start = 0; start < lines.length && !lines[start].isEmpty(); start++) {
      if (lines[start].regionMatches(true, 0, "Received:", 0, 9)) {
        StringBuilder sb = new StringBuilder(lines[start]);
        for (int i = start + 1; i < lines.length && (lines[i].startsWith("\t") || lines[i].startsWith(" ")); i++) {
          sb.append(' ').append(lines[i].strip());
        }
        return sb.toString();
      }
    }
    return "";
  }

  /**
   * Proves a listener still works after an abuse: a new connection gets its greeting, STARTTLS and
   * a full handshake, EHLO inside TLS and a clean QUIT.
   */
  static void assertServesStartTls(PosternTestServer s, TestPki pki) throws Exception {
    assertServesStartTlsWith(s, pki.clientContext());
  }

  static void assertServesStartTlsWith(PosternTestServer s, javax.net.ssl.SSLContext context) throws Exception {
    try (TlsSmtp c = TlsSmtp.connect(s.port())) {
      c.ehlo("after.test.example");
      c.startTls(context);
      Reply ehlo = c.ehlo("after.test.example");
      assertFalse(TlsSmtp.keywords(ehlo).contains("STARTTLS"), ehlo.toString());
      Reply noop = c.command("NOOP");
      assertEquals(250, noop.code(), noop.toString());
      assertEquals(221, c.command("QUIT").code());
    }
  }

  /** A real ClientHello (first flight) from a JSSE engine. */
  static byte[] clientHello(TestPki pki) throws Exception {
    SSLEngine engine = pki.clientContext().createSSLEngine(TestPki.SERVER_NAME, 25);
    engine.setUseClientMode(true);
    engine.beginHandshake();
    ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
    SSLEngineResult r = engine.wrap(ByteBuffer.allocate(0), out);
    assertEquals(SSLEngineResult.Status.OK, r.getStatus());
    out.flip();
    byte[] hello = new byte[out.remaining()];
    out.get(hello);
    assertEquals(0x16, hello[0]);
    return hello;
  }

  /** Reads until the server closes (within {@code millis}); returns what it sent meanwhile. */
  static byte[] readUntilClosed(TlsSmtp c, int millis) throws IOException {
    c.rawSocket().setSoTimeout(millis);
    InputStream in = c.rawSocket().getInputStream();
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    byte[] buf = new byte[1024];
    try {
      int n;
      while ((n = in.read(buf)) >= 0) {
        got.write(buf, 0, n);
      }
    } catch (SocketTimeoutException e) {
      fail("the server kept the connection open " + millis + " ms after a broken handshake; it sent "
          + Arrays.toString(got.toByteArray()));
    } catch (IOException reset) {
      // connection reset: closed
    }
    byte[] bytes = got.toByteArray();
    if (bytes.length > 0) {
      // Only TLS may come back now (an alert), never a plaintext SMTP reply.
      assertEquals(0x15, bytes[0], "expected a TLS alert or nothing, got "
          + new String(bytes, StandardCharsets.ISO_8859_1));
    }
    return bytes;
  }
}
