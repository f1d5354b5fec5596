package org.postern.auth;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.StackTraceElementProxy;
import ch.qos.logback.core.AppenderBase;
import org.postern.testing.Await;
import org.postern.testing.MainLogFile;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient.Reply;
import org.postern.testing.TestPki;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Shared set-up of the SMTP AUTH integration tests: servers with the test PKI's certificate, SASL
 * encodings, the main log (shared by every test of the JVM), a capture of every server log line
 * written while these tests run, and the register of passwords the tests used, which must never
 * show up in a log.
 */
final class AuthTesting {
  static final Path MAINLOG = Path.of(System.getProperty("postern.log.dir", "target/test-logs"), "mainlog");

  /** Every password (right or wrong) any AUTH test sent; {@link AuthSecretsTest} greps the logs for them. */
  static final Set<String> SECRETS = ConcurrentHashMap.newKeySet();

  /** Every log event of the server (diagnostics and main log) while these tests run, formatted with its throwable. */
  static final List<String> CAPTURED = new CopyOnWriteArrayList<>();

  /** Size of the main log when the first AUTH test started: only what came after is ours. */
  static final long MAINLOG_START;

  static {
    long size = 0;
    try {
      size = Files.exists(MAINLOG) ? Files.size(MAINLOG) : 0;
    } catch (IOException e) {
      // start from the beginning
    }
    MAINLOG_START = size;
    Capture capture = new Capture();
    capture.setContext((ch.qos.logback.classic.LoggerContext) LoggerFactory.getILoggerFactory());
    capture.setName("auth-test-capture");
    capture.start();
    ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).addAppender(capture);
    // The main log does not propagate to the root logger (additivity="false").
    ((Logger) LoggerFactory.getLogger("postern.main")).addAppender(capture);
  }

  private AuthTesting() {
  }

  /** Collects events into {@link #CAPTURED}. */
  private static final class Capture extends AppenderBase<ILoggingEvent> {
    @Override
    protected void append(ILoggingEvent e) {
      StringBuilder sb = new StringBuilder(e.getLoggerName()).append(": ").append(e.getFormattedMessage());
      for (IThrowableProxy t = e.getThrowableProxy(); t != null; t = t.getCause()) {
        sb.append(" | ").append(t.getClassName()).append(": ").append(t.getMessage());
        for (StackTraceElementProxy s : t.getStackTraceElementProxyArray()) {
          sb.append(" at ").append(s.getSTEAsString());
        }
      }
      CAPTURED.add(sb.toString());
    }
  }

  /** Registers a password that must never be logged, and returns it. */
  static String secret(String password) {
    SECRETS.add(password);
    return password;
  }

  /** A test server with the shared test PKI's RSA certificate (STARTTLS offered), no implicit TLS port. Not started. */
  static PosternTestServer tlsServer() throws Exception {
    TestPki pki = TestPki.shared();
    PosternTestServer s = PosternTestServer.create();
    Path certs = s.root().resolve("certs");
    TestPki.ServerFiles files = pki.writeServer(certs, "server", pki.server());
    pki.writeCa(certs);
    return s.option("tls_certificate", quote(files.certificate()))
        .option("tls_privatekey", quote(files.key()))
        .option("tls_directory", "../tls")
        .option("tls_on_connect_ports", "\"\"");
  }

  /**
   * The four authenticators, CRAM-MD5 included, which is no longer advertised by default (legacy,
   * issue 11): for tests of CRAM-MD5 itself. Pass to {@code option("authenticators", ...)}.
   */
  static final String WITH_CRAM_MD5 = "{ plain: { driver: plaintext, public_name: PLAIN }, "
      + "login: { driver: plaintext, public_name: LOGIN }, cram_md5: { driver: cram_md5, public_name: CRAM-MD5 }, "
      + "scram: { driver: scram, public_name: SCRAM-SHA-256 } }";

  /** What EHLO advertises with {@link #WITH_CRAM_MD5}. */
  static final String ALL_MECHANISMS = "AUTH PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256";

  /** What EHLO advertises with the default authenticators. */
  static final String DEFAULT_MECHANISMS = "AUTH PLAIN LOGIN SCRAM-SHA-256";

  static String quote(Path p) {
    return "\"" + p.toAbsolutePath().toString().replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  static String unb64(String s) {
    return new String(Base64.getDecoder().decode(s), StandardCharsets.UTF_8);
  }

  /** RFC 4616 PLAIN: {@code authzid NUL authcid NUL passwd}, base64. */
  static String plain(String authzid, String user, String password) {
    return b64(authzid + "\0" + user + "\0" + password);
  }

  static String plain(String user, String password) {
    return plain("", user, password);
  }

  static void assertReply(int code, String enhanced, Reply r) {
    assertEquals(code, r.code(), () -> "expected " + code + " " + enhanced + ", got " + r);
    assertEquals(enhanced, r.enhanced(), () -> "expected " + code + " " + enhanced + ", got " + r);
  }

  /** Main-log lines written since the AUTH tests started. */
  static List<String> mainlogLines() throws IOException {
    if (!Files.exists(MAINLOG)) {
      return List.of();
    }
    try (RandomAccessFile f = new RandomAccessFile(MAINLOG.toFile(), "r")) {
      long start = f.length() >= MAINLOG_START ? MAINLOG_START : 0;
      byte[] bytes = new byte[(int) (f.length() - start)];
      f.seek(start);
      f.readFully(bytes);
      List<String> lines = new ArrayList<>();
      for (String l : new String(bytes, StandardCharsets.UTF_8).split("\n")) {
        lines.add(l);
      }
      return lines;
    }
  }

  /** The first main-log line containing every one of {@code texts}, waiting up to {@code millis} (written asynchronously). */
  static Optional<String> awaitMainlog(long millis, String... texts) throws Exception {
    List<String> found = Await.value(millis,
        () -> mainlogLines().stream().filter(l -> Arrays.stream(texts).allMatch(l::contains)).toList(),
        l -> !l.isEmpty());
    return found.stream().findFirst();
  }

  /**
   * Asserts that no registered secret (and none of {@code extra}) appears in the main log lines
   * written since the AUTH tests started or in any captured server log line. The main log is
   * written asynchronously: it waits until the lines logged so far are in the file.
   */
  static void assertNoSecretsLogged(Set<String> extra) throws Exception {
    MainLogFile.awaitLoggedSoFar(5000);
    Set<String> secrets = new java.util.TreeSet<>(SECRETS);
    secrets.addAll(extra);
    List<String> mainlog = mainlogLines();
    List<String> leaks = new ArrayList<>();
    for (String s : secrets) {
      for (String line : mainlog) {
        if (line.contains(s)) {
          leaks.add("mainlog: " + line + "   <- contains " + s);
        }
      }
      for (String line : CAPTURED) {
        if (line.contains(s)) {
          leaks.add("server log: " + line + "   <- contains " + s);
        }
      }
    }
    if (!leaks.isEmpty()) {
      throw new AssertionError(leaks.size() + " log lines contain a secret:\n" + String.join("\n", leaks));
    }
  }

  /** The arrival ({@code <=}) line of a message. */
  static String arrivalLine(String id) throws Exception {
    return awaitMainlog(5000, id + " <= ")
        .orElseThrow(() -> new AssertionError("no arrival line for " + id + " in " + MAINLOG));
  }
}
