package org.postern.tls;

import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import org.eclipse.angus.mail.smtp.SMTPTransport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postern.testing.MainLogFile;
import org.postern.testing.PosternTestServer;
import org.postern.testing.TestPki;

import javax.net.ssl.SSLHandshakeException;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** A stock client library (Angus Mail, the Jakarta Mail implementation) over STARTTLS and implicit TLS. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class AngusMailTlsTest {
  private static final Pattern ID = Pattern.compile("id=(\\S+)");
  private static TestPki pki;
  private static PosternTestServer server;

  @BeforeAll
  static void start() throws Exception {
    pki = TestPki.shared();
    server = TlsTesting.server(pki, true).start();
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  private static Properties base(String protocol, int port) throws Exception {
    Properties p = new Properties();
    String prefix = "mail." + protocol + ".";
    p.put(prefix + "host", "127.0.0.1");
    p.put(prefix + "port", Integer.toString(port));
    p.put(prefix + "localhost", "angus.test.example");
    p.put(prefix + "connectiontimeout", "5000");
    p.put(prefix + "timeout", "10000");
    // Angus 2 checks the server name by default; the test certificate names mx.test.example, which
    // does not resolve here, and the client connects to 127.0.0.1. Trust is still checked (CA).
    p.put(prefix + "ssl.checkserveridentity", "false");
    // Fail with the real cause instead of silently retrying with the JDK's default factory.
    p.put(prefix + "socketFactory.fallback", "false");
    return p;
  }

  /** Sends one message; returns the queue id from the server's last reply. */
  private static String send(Properties props, String protocol, String subject) throws Exception {
    Session session = Session.getInstance(props);
    MimeMessage m = new MimeMessage(session);
    m.setFrom(new InternetAddress("angus@client.test.example"));
    m.setRecipient(Message.RecipientType.TO, new InternetAddress("alice@test.example"));
    m.setSubject(subject);
    m.setText("Sent by Angus Mail over TLS.\n");
    try (Transport t = session.getTransport(protocol)) {
      t.connect();
      t.sendMessage(m, m.getAllRecipients());
      String last = ((SMTPTransport) t).getLastServerResponse();
      Matcher id = ID.matcher(last);
      if (!id.find()) {
        fail("no id in the last reply: " + last);
      }
      return id.group(1);
    }
  }

  @Test
  void starttlsRequiredWithSocketFactoryTrustingTheTestCa() throws Exception {
    Properties p = base("smtp", server.port());
    p.put("mail.smtp.starttls.enable", "true");
    p.put("mail.smtp.starttls.required", "true");
    p.put("mail.smtp.ssl.socketFactory", pki.clientContext().getSocketFactory());
    String subject = "angus starttls " + UUID.randomUUID();
    String id = send(p, "smtp", subject);
    String received = TlsTesting.deliveredReceived(server, "alice", id);
    assertTrue(received.contains("from angus.test.example"), received);
    assertTrue(received.contains("with ESMTPS (TLS1."), received);
    assertTrue(TlsTesting.arrivalLine(id).contains(" P=esmtps X=TLS1."));
  }

  @Test
  void starttlsRequiredWithSslTrustOption() throws Exception {
    Properties p = base("smtp", server.port());
    p.put("mail.smtp.starttls.enable", "true");
    p.put("mail.smtp.starttls.required", "true");
    p.put("mail.smtp.ssl.trust", "127.0.0.1");
    String id = send(p, "smtp", "angus ssl.trust");
    assertTrue(TlsTesting.deliveredReceived(server, "alice", id).contains("with ESMTPS (TLS1."));
  }

  @Test
  void implicitTlsWithSslEnable() throws Exception {
    int smtps = TlsTesting.port(server, "smtps");
    Properties p = base("smtp", smtps);
    p.put("mail.smtp.ssl.enable", "true");
    p.put("mail.smtp.ssl.socketFactory", pki.clientContext().getSocketFactory());
    String id = send(p, "smtp", "angus implicit");
    String received = TlsTesting.deliveredReceived(server, "alice", id);
    assertTrue(received.contains("with ESMTPS (TLS1."), received);
    String log = TlsTesting.arrivalLine(id);
    assertTrue(log.contains(" P=esmtps X=TLS1."), log);
    assertTrue(log.contains(":" + smtps + " "), log);
  }

  @Test
  void smtpsProtocolAgainstTheImplicitPort() throws Exception {
    int smtps = TlsTesting.port(server, "smtps");
    Properties p = base("smtps", smtps);
    p.put("mail.smtps.ssl.socketFactory", pki.clientContext().getSocketFactory());
    String id = send(p, "smtps", "angus smtps");
    assertTrue(TlsTesting.deliveredReceived(server, "alice", id).contains("with ESMTPS (TLS1."));
  }

  @Test
  void clientThatDoesNotTrustTheCaRefusesToSend() throws Exception {
    // The control: without the test CA the JDK's default trust store rejects the server, so the
    // successes above really went through a verified TLS session.
    int before = server.mailbox("alice").size();
    Properties p = base("smtp", server.port());
    p.put("mail.smtp.starttls.enable", "true");
    p.put("mail.smtp.starttls.required", "true");
    MainLogFile log = MainLogFile.ofTestJvm().fromNow();
    MessagingException e = assertThrows(MessagingException.class, () -> send(p, "smtp", "untrusted"));
    Throwable cause = e;
    while (cause != null && !(cause instanceof SSLHandshakeException)) {
      cause = cause.getCause();
    }
    assertTrue(cause != null, "expected an SSLHandshakeException under " + e);
    // The server's line for the failed handshake ends this connection's story: nothing more can arrive.
    log.await(5000, "TLS error on connection from [127.0.0.1]:");
    assertEquals(before, server.mailbox("alice").size());
  }
}
