package org.postern.auth;

import jakarta.mail.AuthenticationFailedException;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.SendFailedException;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import org.apache.commons.net.smtp.AuthenticatingSMTPClient;
import org.apache.commons.net.smtp.AuthenticatingSMTPClient.AUTH_METHOD;
import org.eclipse.angus.mail.smtp.SMTPAddressFailedException;
import org.eclipse.angus.mail.smtp.SMTPTransport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postern.testing.PosternTestServer;
import org.postern.testing.TestPki;

import javax.net.ssl.SSLContext;
import java.io.Writer;
import java.net.InetAddress;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.postern.auth.AuthTesting.secret;

/**
 * Stock client libraries against SMTP AUTH over STARTTLS, connecting from 127.0.0.2 (not a relay
 * host), so a message for a remote domain is accepted only because the session authenticated:
 * Apache Commons Net's {@link AuthenticatingSMTPClient} (PLAIN, LOGIN, CRAM-MD5) and Angus Mail
 * (PLAIN, LOGIN).
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class AuthClientsTest {
  private static final String OUTSIDER = "127.0.0.2";
  private static final Pattern ID = Pattern.compile("id=(\\S+)");
  private static final String ALICE_PW = secret("Clients-Alice-pw-3e8a");
  private static final String BOB_PW = secret("Clients-Bob-bcrypt-pw-c4f2");
  private static final String WRONG_PW = secret("Clients-Wrong-pw-19bd");

  private static PosternTestServer server;
  private static SSLContext tls;

  @BeforeAll
  static void start() throws Exception {
    tls = TestPki.shared().clientContext();
    server = AuthTesting.tlsServer()
        .users("admin:", "alice:{PLAIN}" + ALICE_PW, "bob:" + PasswordSchemes.create("BLF-CRYPT", BOB_PW))
        .option("smtp_auth_failure_delay", "0s")
        .option("auth_failures_per_host", "0")
        .option("authenticators", AuthTesting.WITH_CRAM_MD5)
        .start();
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
    // No password this class sent, right or wrong, reached a log.
    AuthTesting.assertNoSecretsLogged(java.util.Set.of());
  }

  // ---------------------------------------------------------------------------------------------
  // Apache Commons Net

  /** Connected from 127.0.0.2, EHLO, STARTTLS, EHLO again; AUTH is offered only after TLS. */
  private static AuthenticatingSMTPClient commonsNet() throws Exception {
    AuthenticatingSMTPClient c = new AuthenticatingSMTPClient(false, tls);
    c.setConnectTimeout(5000);
    c.setDefaultTimeout(10_000);
    c.connect(InetAddress.getLoopbackAddress(), server.port(), InetAddress.getByName(OUTSIDER), 0);
    c.setSoTimeout(10_000);
    assertEquals(220, c.getReplyCode(), c.getReplyString());
    assertEquals(250, c.ehlo("commons.test.example"), c.getReplyString());
    assertFalse(c.getReplyString().contains("AUTH"), "AUTH offered in clear to 127.0.0.2: " + c.getReplyString());
    assertTrue(c.execTLS(), "STARTTLS: " + c.getReplyString());
    assertEquals(250, c.ehlo("commons.test.example"), c.getReplyString());
    assertTrue(c.getReplyString().contains(AuthTesting.ALL_MECHANISMS), c.getReplyString());
    return c;
  }

  private static void close(AuthenticatingSMTPClient c) {
    try {
      c.logout();
    } catch (Exception e) {
      // closing anyway
    }
    try {
      c.disconnect();
    } catch (Exception e) {
      // closed
    }
  }

  /** Sends a message to a remote domain through the authenticated session; returns the queue id. */
  private static String relay(AuthenticatingSMTPClient c, String subject) throws Exception {
    assertTrue(c.setSender("sender@client.test.example"), c.getReplyString());
    assertTrue(c.addRecipient("x@remote.example"), "authenticated relay refused: " + c.getReplyString());
    Writer w = c.sendMessageData();
    assertTrue(w != null, c.getReplyString());
    w.write("From: <sender@client.test.example>\r\nTo: <x@remote.example>\r\nSubject: " + subject
        + "\r\n\r\nSent by Commons Net after AUTH.\r\n");
    w.close();
    assertTrue(c.completePendingCommand(), c.getReplyString());
    Matcher m = ID.matcher(c.getReplyString());
    assertTrue(m.find(), c.getReplyString());
    return m.group(1);
  }

  private static void commonsNetSucceeds(AUTH_METHOD method, String user, String password, String authenticator)
      throws Exception {
    AuthenticatingSMTPClient c = commonsNet();
    try {
      assertTrue(c.auth(method, user, password), method + " for " + user + ": " + c.getReplyString());
      assertEquals(235, c.getReplyCode(), c.getReplyString());
      assertTrue(c.getReplyString().startsWith("235 2.7.0 "), c.getReplyString());
      String line = AuthTesting.arrivalLine(relay(c, "commons-net " + method + " " + UUID.randomUUID()));
      assertTrue(line.contains(" P=esmtpsa "), line);
      assertTrue(line.contains(" A=" + authenticator + ":" + user + " ") || line.endsWith(" A=" + authenticator + ":" + user),
          line);
    } finally {
      close(c);
    }
  }

  private static void commonsNetFails(AUTH_METHOD method, String user, String password) throws Exception {
    AuthenticatingSMTPClient c = commonsNet();
    try {
      assertFalse(c.auth(method, user, password), method + " for " + user + " with a wrong password succeeded");
      assertEquals(535, c.getReplyCode(), c.getReplyString());
      assertTrue(c.getReplyString().startsWith("535 5.7.8 "), c.getReplyString());
      // Nothing is relayed for a session whose AUTH failed.
      assertTrue(c.setSender("sender@client.test.example"), c.getReplyString());
      assertFalse(c.addRecipient("x@remote.example"), "relay after a failed AUTH: " + c.getReplyString());
      assertEquals(550, c.getReplyCode(), c.getReplyString());
    } finally {
      close(c);
    }
  }

  @Test
  void commonsNetPlain() throws Exception {
    commonsNetSucceeds(AUTH_METHOD.PLAIN, "alice", ALICE_PW, "plain");
    commonsNetSucceeds(AUTH_METHOD.PLAIN, "bob", BOB_PW, "plain");
    commonsNetFails(AUTH_METHOD.PLAIN, "alice", WRONG_PW);
    commonsNetFails(AUTH_METHOD.PLAIN, "bob", WRONG_PW);
  }

  @Test
  void commonsNetLogin() throws Exception {
    commonsNetSucceeds(AUTH_METHOD.LOGIN, "alice", ALICE_PW, "login");
    commonsNetSucceeds(AUTH_METHOD.LOGIN, "bob", BOB_PW, "login");
    commonsNetFails(AUTH_METHOD.LOGIN, "alice", WRONG_PW);
    commonsNetFails(AUTH_METHOD.LOGIN, "bob", WRONG_PW);
  }

  @Test
  void commonsNetCramMd5() throws Exception {
    commonsNetSucceeds(AUTH_METHOD.CRAM_MD5, "alice", ALICE_PW, "cram_md5");
    commonsNetFails(AUTH_METHOD.CRAM_MD5, "alice", WRONG_PW);
    commonsNetFails(AUTH_METHOD.CRAM_MD5, "nobody", WRONG_PW);
  }

  @Test
  void commonsNetCramMd5ForBcryptUserFailsCleanlyAndServerGoesOn() throws Exception {
    // The server cannot answer CRAM-MD5 from a bcrypt hash: 535, even with the right password.
    commonsNetFails(AUTH_METHOD.CRAM_MD5, "bob", BOB_PW);
    AuthenticatingSMTPClient c = commonsNet();
    try {
      assertFalse(c.auth(AUTH_METHOD.CRAM_MD5, "bob", BOB_PW));
      assertEquals(535, c.getReplyCode(), c.getReplyString());
      // Same session: another mechanism still works for that user.
      assertTrue(c.auth(AUTH_METHOD.PLAIN, "bob", BOB_PW), c.getReplyString());
      assertEquals(235, c.getReplyCode(), c.getReplyString());
    } finally {
      close(c);
    }
    commonsNetSucceeds(AUTH_METHOD.CRAM_MD5, "alice", ALICE_PW, "cram_md5");
  }

  // ---------------------------------------------------------------------------------------------
  // Angus Mail (Jakarta Mail)

  private static Properties angus(String mechanism, boolean auth) {
    Properties p = new Properties();
    p.put("mail.smtp.host", "127.0.0.1");
    p.put("mail.smtp.port", Integer.toString(server.port()));
    p.put("mail.smtp.localhost", "angus.test.example");
    // Bind to the non-relay loopback address, so a remote recipient needs AUTH.
    p.put("mail.smtp.localaddress", OUTSIDER);
    p.put("mail.smtp.connectiontimeout", "5000");
    p.put("mail.smtp.timeout", "10000");
    p.put("mail.smtp.starttls.enable", "true");
    p.put("mail.smtp.starttls.required", "true");
    p.put("mail.smtp.ssl.socketFactory", tls.getSocketFactory());
    // The certificate names mx.test.example, which does not resolve here; trust is still checked (CA).
    p.put("mail.smtp.ssl.checkserveridentity", "false");
    p.put("mail.smtp.socketFactory.fallback", "false");
    p.put("mail.smtp.auth", Boolean.toString(auth));
    if (mechanism != null) {
      p.put("mail.smtp.auth.mechanisms", mechanism);
    }
    return p;
  }

  /** Sends one message to x@remote.example; returns the queue id from the last reply. */
  private static String angusSend(Properties props, String user, String password) throws Exception {
    Session session = Session.getInstance(props);
    MimeMessage m = new MimeMessage(session);
    m.setFrom(new InternetAddress("angus@client.test.example"));
    m.setRecipient(Message.RecipientType.TO, new InternetAddress("x@remote.example"));
    m.setSubject("angus auth " + UUID.randomUUID());
    m.setText("Sent by Angus Mail after AUTH.\n");
    try (Transport t = session.getTransport("smtp")) {
      if (user == null) {
        t.connect();
      } else {
        t.connect(user, password);
      }
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
  void angusMailPlainAndLoginRelayFromNonRelayHost() throws Exception {
    for (String mechanism : new String[] {"PLAIN", "LOGIN"}) {
      for (String[] u : new String[][] {{"alice", ALICE_PW}, {"bob", BOB_PW}}) {
        String line = AuthTesting.arrivalLine(angusSend(angus(mechanism, true), u[0], u[1]));
        assertTrue(line.contains("[" + OUTSIDER + "]"), line);
        assertTrue(line.contains(" P=esmtpsa "), line);
        assertTrue(line.contains(" A=" + mechanism.toLowerCase() + ":" + u[0] + " "), line);
      }
    }
  }

  @Test
  void angusMailWrongPasswordIsRefused() throws Exception {
    for (String mechanism : new String[] {"PLAIN", "LOGIN"}) {
      AuthenticationFailedException e = assertThrows(AuthenticationFailedException.class,
          () -> angusSend(angus(mechanism, true), "alice", WRONG_PW));
      assertTrue(String.valueOf(e.getMessage()).contains("535 5.7.8"), mechanism + ": " + e.getMessage());
    }
  }

  @Test
  void angusMailWithoutAuthCannotRelay() {
    // The control: the same client without AUTH is refused the remote recipient.
    MessagingException e = assertThrows(SendFailedException.class, () -> angusSend(angus(null, false), null, null));
    Throwable cause = e;
    while (cause != null && !(cause instanceof SMTPAddressFailedException)) {
      cause = cause instanceof MessagingException me ? me.getNextException() : null;
    }
    assertTrue(cause != null, "expected an SMTPAddressFailedException under " + e);
    SMTPAddressFailedException failed = (SMTPAddressFailedException) cause;
    assertEquals(550, failed.getReturnCode(), failed.getMessage());
    assertTrue(failed.getMessage().contains("5.7.1"), failed.getMessage());
  }
}
