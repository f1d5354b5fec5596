package org.postern;

import org.junit.jupiter.api.Test;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient;

import java.nio.file.Files;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SmokeTest {
  @Test
  void messageToLocalUserLandsInMaildir() throws Exception {
    try (PosternTestServer server = PosternTestServer.create().start();
         SmtpTestClient c = SmtpTestClient.connect(server.port())) {
      assertEquals(220, c.reply().code());
      assertEquals(250, c.command("EHLO client.example").code());
      assertEquals(250, c.command("MAIL FROM:<sender@example.org>").code());
      assertEquals(250, c.command("RCPT TO:<alice@test.example>").code());
      assertEquals(354, c.command("DATA").code());
      SmtpTestClient.Reply done = c.command("Subject: smoke\r\n\r\nhello\r\n.");
      assertEquals(250, done.code());
      assertEquals(221, c.command("QUIT").code());
      var files = server.awaitMailbox("alice", 1, 5000);
      assertEquals(1, files.size());
      String stored = Files.readString(files.get(0));
      assertTrue(stored.startsWith("Return-Path: <sender@example.org>\r\nReceived: "), stored);
      assertTrue(stored.endsWith("\r\nSubject: smoke\r\n\r\nhello\r\n"), stored);
    }
  }
}
