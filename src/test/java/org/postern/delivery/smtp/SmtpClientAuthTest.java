package org.postern.delivery.smtp;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.postern.bus.DeliveryStatus;
import org.postern.config.ClientAuthenticator;
import org.postern.config.SmtpTransportOptions;
import org.postern.config.YamlSection;
import org.postern.testing.ScriptedSmtpServer;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.delivery.smtp.SmtpClientTesting.dataFile;
import static org.postern.delivery.smtp.SmtpClientTesting.deliver;
import static org.postern.delivery.smtp.SmtpClientTesting.host;
import static org.postern.delivery.smtp.SmtpClientTesting.message;
import static org.postern.delivery.smtp.SmtpClientTesting.openFailure;
import static org.postern.delivery.smtp.SmtpClientTesting.options;
import static org.postern.delivery.smtp.SmtpClientTesting.started;

/** Client authenticators (Exim's client_* options) and where hosts_try_auth / hosts_require_auth use them. */
@ExtendWith(VertxExtension.class)
@Timeout(60)
class SmtpClientAuthTest {
  private static final String BODY = "Subject: t\r\n\r\nbody\r\n";
  private static final String SECRET = "s3cret-Pa55";
  private static final String AUTHENTICATORS = """
      cram:
        driver: cram_md5
        public_name: CRAM-MD5
        client_name: user
        client_secret: "%1$s"
      login:
        driver: plaintext
        public_name: LOGIN
        client_send: ": user : %1$s"
      plain:
        driver: plaintext
        public_name: PLAIN
        client_send: ": user : %1$s"
      """;

  @TempDir
  Path dir;
  private NetClient client;

  @BeforeEach
  void setUp(Vertx vertx) {
    client = vertx.createNetClient();
  }

  private MessageResult deliverTo(Vertx vertx, ScriptedSmtpServer server, String yaml, String secret)
      throws Exception {
    return deliver(vertx, client, host(server), options(dir, yaml, AUTHENTICATORS.formatted(secret)),
        message(dataFile(dir, "m", BODY), "a@x.example"));
  }

  @Test
  void plainSucceeds(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().auth("user", SECRET, "PLAIN"));
    MessageResult r = deliverTo(vertx, server, "hosts_try_auth: 127.0.0.1\n", SECRET);
    assertEquals("plain", r.authenticator());
    assertEquals("user", server.envelopes().get(0).authId());
    assertTrue(server.commands("AUTH PLAIN ").get(0).line().length() > "AUTH PLAIN ".length(),
        "initial response in the AUTH command");
  }

  @Test
  void plainInEximCaretFormSucceeds(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().auth("user", SECRET, "PLAIN"));
    MessageResult r = deliver(vertx, client, host(server), options(dir, "hosts_require_auth: \"*\"\n",
        "plain:\n  driver: plaintext\n  public_name: PLAIN\n  client_send: \"^user^" + SECRET + "\"\n"),
        message(dataFile(dir, "m", BODY), "a@x.example"));
    assertEquals("plain", r.authenticator());
    assertEquals("user", server.envelopes().get(0).authId());
  }

  @Test
  void loginSucceeds(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().auth("user", SECRET, "LOGIN"));
    MessageResult r = deliverTo(vertx, server, "hosts_require_auth: 127.0.0.1\n", SECRET);
    assertEquals("login", r.authenticator());
    assertEquals("user", server.envelopes().get(0).authId());
    assertEquals(List.of("AUTH LOGIN"), server.commands("AUTH").stream().map(ScriptedSmtpServer.Command::line)
        .toList());
  }

  @Test
  void cramMd5Succeeds(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().auth("user", SECRET, "CRAM-MD5",
        "PLAIN"));
    MessageResult r = deliverTo(vertx, server, "hosts_require_auth: mx.test.example\n", SECRET);
    assertEquals("cram", r.authenticator(), "the first configured authenticator the server offers");
    assertEquals("user", server.envelopes().get(0).authId());
  }

  @Test
  void wrongCredentialsWithHostsRequireAuthDefer(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().auth("user", SECRET, "PLAIN", "LOGIN"));
    String reason = openFailure(vertx, client, host(server), options(dir, "hosts_require_auth: 127.0.0.1\n",
        AUTHENTICATORS.formatted("wrong")));
    assertEquals("authentication required but authentication attempt(s) failed", reason);
    assertEquals(2, server.commands("AUTH").size(), "LOGIN then PLAIN tried, in configuration order");
    assertEquals(0, server.commands("MAIL").size());
  }

  @Test
  void wrongCredentialsWithHostsTryAuthDeliverUnauthenticated(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().auth("user", SECRET, "CRAM-MD5"));
    MessageResult r = deliverTo(vertx, server, "hosts_try_auth: 127.0.0.1\n", "wrong");
    assertEquals(DeliveryStatus.DELIVERED, r.recipients().get(0).status());
    assertNull(r.authenticator());
    assertNull(server.envelopes().get(0).authId());
    assertEquals(1, server.commands("AUTH").size());
  }

  @Test
  void hostInNeitherListDoesNotAuthenticate(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().auth("user", SECRET, "PLAIN"));
    MessageResult r = deliverTo(vertx, server, "hosts_try_auth: 192.0.2.1\nhosts_require_auth: other.example\n",
        SECRET);
    assertNull(r.authenticator());
    assertEquals(0, server.commands("AUTH").size());
  }

  @Test
  void requiredAuthWithoutAMatchingMechanismDefers(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().auth("user", SECRET, "SCRAM-SHA-256"));
    String reason = openFailure(vertx, client, host(server), options(dir, "hosts_require_auth: \"*\"\n",
        AUTHENTICATORS.formatted(SECRET)));
    assertTrue(reason.startsWith("authentication required but no matching mechanism offered"), reason);
  }

  @Test
  void authenticationHappensAfterTls(Vertx vertx) throws Exception {
    ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().auth("user", SECRET, "PLAIN")
        .startTls(org.postern.testing.TestPki.shared().server()));
    MessageResult r = deliverTo(vertx, server, "hosts_require_auth: \"*\"\n", SECRET);
    assertEquals("plain", r.authenticator());
    assertTrue(server.commands("AUTH").get(0).tls(), "credentials only inside TLS when TLS is offered");
  }

  @Test
  void secretsNeverReachLogsOrResults(Vertx vertx) throws Exception {
    List<String> captured = new CopyOnWriteArrayList<>();
    AppenderBase<ILoggingEvent> capture = new AppenderBase<>() {
      @Override
      protected void append(ILoggingEvent event) {
        captured.add(event.getFormattedMessage());
      }
    };
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    capture.setContext(context);
    capture.start();
    Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    Logger smtp = context.getLogger("org.postern.delivery.smtp");
    Level before = smtp.getLevel();
    root.addAppender(capture);
    smtp.setLevel(Level.DEBUG);
    List<String> texts = new ArrayList<>();
    try {
      for (String mechanism : List.of("PLAIN", "LOGIN", "CRAM-MD5")) {
        for (String secret : List.of(SECRET, SECRET + "-wrong")) {
          ScriptedSmtpServer server = started(vertx, ScriptedSmtpServer.create().auth("user", SECRET, mechanism));
          SmtpTransportOptions o = options(dir, "hosts_require_auth: \"*\"\n", AUTHENTICATORS.formatted(secret));
          texts.add(o.toString());
          try {
            MessageResult r = deliver(vertx, client, host(server), o, message(dataFile(dir, "m", BODY),
                "a@x.example"));
            texts.add(r.toString());
          } catch (HostDeferral d) {
            texts.add(d.getMessage());
          }
        }
      }
    } finally {
      root.detachAppender(capture);
      smtp.setLevel(before);
    }
    assertTrue(captured.stream().anyMatch(l -> l.contains("SMTP>> AUTH PLAIN <hidden>")), captured.toString());
    assertTrue(captured.stream().anyMatch(l -> l.contains("SMTP<<") || l.contains("SMTP>> MAIL")),
        captured.toString());
    List<String> forbidden = List.of(SECRET, b64(SECRET), b64("\0user\0" + SECRET), b64(SECRET + "-wrong"),
        b64("\0user\0" + SECRET + "-wrong"));
    for (String line : captured) {
      for (String f : forbidden) {
        assertFalse(line.contains(f), "secret in log line: " + line);
      }
    }
    for (String t : texts) {
      for (String f : forbidden) {
        assertFalse(t.contains(f), "secret in result text: " + t);
      }
    }
  }

  @Test
  void clientAuthenticatorToStringHidesCredentials() throws Exception {
    List<ClientAuthenticator> list = ClientAuthenticator.parseAll(YamlSection.parse("a.yaml",
        AUTHENTICATORS.formatted(SECRET)));
    assertEquals(3, list.size());
    for (ClientAuthenticator a : list) {
      assertFalse(a.toString().contains(SECRET), a.toString());
    }
  }

  private static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }
}
