package org.postern;

import jakarta.mail.Address;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.SendFailedException;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import org.apache.commons.net.smtp.SMTPClient;
import org.apache.commons.net.smtp.SMTPReply;
import org.eclipse.angus.mail.smtp.SMTPAddressFailedException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postern.testing.MainLogFile;
import org.postern.testing.PosternTestServer;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Postern against SMTP client implementations we did not write: Apache Commons Net and Angus Mail
 * (the Jakarta Mail implementation). Each does its own dot-stuffing and line-end handling, so a
 * byte-exact round trip through the maildir shows both sides agree on RFC 5321 transparency.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class IndependentClientsTest {

  @Test
  void commonsNetSmtpClientRoundTripsByteExact() throws Exception {
    // The first line must not start with '.': Commons Net only stuffs dots after a line break.
    String message = "From: sender@example.org\r\n"
        + "To: alice@test.example\r\n"
        + "Subject: commons-net\r\n"
        + "\r\n"
        + "first line\r\n"
        + ".starts with a dot\r\n"
        + "..two dots\r\n"
        + ".\r\n"
        + "last line\r\n";
    try (PosternTestServer server = PosternTestServer.create().start()) {
      SMTPClient client = new SMTPClient();
      client.setDefaultTimeout(10_000);
      client.connect("127.0.0.1", server.port());
      try {
        client.setSoTimeout(10_000);
        assertEquals(220, client.getReplyCode(), client.getReplyString());
        assertTrue(client.login("client.example"), client.getReplyString());
        assertEquals(250, client.getReplyCode(), client.getReplyString());
        assertTrue(client.setSender("sender@example.org"), client.getReplyString());
        assertEquals(250, client.getReplyCode(), client.getReplyString());
        assertTrue(client.addRecipient("alice@test.example"), client.getReplyString());
        assertEquals(250, client.getReplyCode(), client.getReplyString());
        assertTrue(client.sendShortMessageData(message), client.getReplyString());
        assertEquals(250, client.getReplyCode(), client.getReplyString());
        assertTrue(SMTPReply.isPositiveCompletion(client.getReplyCode()));
        // An unknown user is refused by RCPT with 550.
        assertTrue(client.setSender("sender@example.org"), client.getReplyString());
        assertFalse(client.addRecipient("nobody@test.example"));
        assertEquals(550, client.getReplyCode(), client.getReplyString());
        assertTrue(client.getReplyString().contains("5.1.1"), client.getReplyString());
        assertTrue(client.reset(), client.getReplyString());
        assertTrue(client.logout(), client.getReplyString());
        assertEquals(221, client.getReplyCode(), client.getReplyString());
      } finally {
        client.disconnect();
      }

      List<Path> files = server.awaitMailbox("alice", 1, 5000);
      assertEquals(1, files.size());
      byte[] stored = Files.readAllBytes(files.get(0));
      assertEquals(message, new String(DataPhaseTest.afterTrace(stored, "sender@example.org"), ISO_8859_1));
      awaitSpoolEmpty(server);
      assertEquals(1, server.mailbox("alice").size());
    }
  }

  @Test
  void angusMailRoundTripsByteExactToTwoRecipients() throws Exception {
    try (PosternTestServer server = PosternTestServer.create().start()) {
      Session session = Session.getInstance(props(server));
      MimeMessage message = new MimeMessage(session);
      message.setFrom(new InternetAddress("sender@example.org"));
      message.setRecipients(Message.RecipientType.TO, new Address[] {
          new InternetAddress("alice@test.example"), new InternetAddress("bob@test.example")});
      String subject = "Grüße aus Zürich – ünïcödé";
      message.setSubject(subject, "UTF-8");
      // CRLF line ends: with 8bit, Angus writes the text as is and only the SMTP stream would
      // convert bare LFs, which would make writeTo() differ from what went over the wire.
      String text = "Hallo Alice und Bob,\r\n"
          + ".Diese Zeile beginnt mit einem Punkt\r\n"
          + ".\r\n"
          + "..\r\n"
          + "Schöne Grüße, ça va? Ελληνικά, 日本語\r\n";
      message.setText(text, "UTF-8");
      message.setHeader("Content-Transfer-Encoding", "8bit");

      Transport.send(message);

      ByteArrayOutputStream expected = new ByteArrayOutputStream();
      message.writeTo(expected);
      byte[] sent = expected.toByteArray();
      assertTrue(new String(sent, StandardCharsets.UTF_8).contains(".Diese Zeile"), "8bit body as expected");
      assertFalse(new String(sent, ISO_8859_1).matches("(?s).*(\r(?!\n)|(?<!\r)\n).*"),
          "precondition: Angus wrote CRLF only");

      for (String user : List.of("alice", "bob")) {
        List<Path> files = server.awaitMailbox(user, 1, 5000);
        assertEquals(1, files.size(), user);
        byte[] stored = Files.readAllBytes(files.get(0));
        byte[] content = DataPhaseTest.afterTrace(stored, "sender@example.org");
        assertArrayEquals(sent, content, user + ": stored\n" + new String(content, StandardCharsets.UTF_8)
            + "\nsent\n" + new String(sent, StandardCharsets.UTF_8));

        try (InputStream in = Files.newInputStream(files.get(0))) {
          MimeMessage parsed = new MimeMessage(session, in);
          assertEquals(subject, parsed.getSubject(), user);
          assertEquals(text, parsed.getContent(), user);
          assertEquals(message.getMessageID(), parsed.getMessageID(), user);
          assertEquals("<sender@example.org>", parsed.getHeader("Return-Path", null), user);
          assertNotNull(parsed.getHeader("Received"), user);
        }
      }
      awaitSpoolEmpty(server);
      assertEquals(1, server.mailbox("alice").size());
      assertEquals(1, server.mailbox("bob").size());
    }
  }

  @Test
  void angusMailToUnknownUserFailsWith550() throws Exception {
    try (PosternTestServer server = PosternTestServer.create().start()) {
      Session session = Session.getInstance(props(server));
      MimeMessage message = new MimeMessage(session);
      message.setFrom(new InternetAddress("sender@example.org"));
      message.setRecipient(Message.RecipientType.TO, new InternetAddress("nobody@test.example"));
      message.setSubject("to nobody");
      message.setText("nobody is home\r\n");

      MainLogFile log = MainLogFile.ofTestJvm().fromNow();
      SendFailedException e = assertThrows(SendFailedException.class, () -> Transport.send(message));
      Address[] invalid = e.getInvalidAddresses();
      assertNotNull(invalid, "invalid addresses reported: " + e);
      assertEquals(List.of("nobody@test.example"),
          Arrays.stream(invalid).map(a -> ((InternetAddress) a).getAddress()).toList());
      SMTPAddressFailedException failed = null;
      for (Exception x = e; x != null; x = x instanceof MessagingException m ? m.getNextException() : null) {
        if (x instanceof SMTPAddressFailedException f) {
          failed = f;
          break;
        }
      }
      assertNotNull(failed, "an SMTPAddressFailedException in the chain of " + e);
      assertEquals(550, failed.getReturnCode(), failed.getMessage());
      assertTrue(failed.getMessage().contains("5.1.1"), failed.getMessage());
      assertEquals("nobody@test.example", failed.getAddress().getAddress());

      // The refusal is the end of that message's story: with no recipient there is no DATA.
      log.await(5000, "F=<sender@example.org> rejected RCPT <nobody@test.example>");
      assertEquals(List.of(), server.spoolFiles());
      assertEquals(List.of(), server.mailbox("admin"));
      assertEquals(List.of(), server.mailbox("alice"));
    }
  }

  private static Properties props(PosternTestServer server) {
    Properties p = new Properties();
    p.put("mail.smtp.host", "127.0.0.1");
    p.put("mail.smtp.port", Integer.toString(server.port()));
    p.put("mail.smtp.ehlo", "true");
    p.put("mail.smtp.localhost", "client.example");
    p.put("mail.smtp.allow8bitmime", "true");
    p.put("mail.smtp.connectiontimeout", "10000");
    p.put("mail.smtp.timeout", "10000");
    return p;
  }

  private static void awaitSpoolEmpty(PosternTestServer server) throws Exception {
    server.awaitSpoolEmpty(5000);
  }
}
