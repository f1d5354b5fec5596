package org.postern.plugins.milter;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.postern.testing.Await;
import org.postern.testing.CheckedSmtp;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real OpenDKIM (Debian's {@code opendkim}, a child process on an ephemeral port, with a key made
 * by {@code opendkim-genkey} for this run) behind Postern's milter client: a message submitted
 * through Postern is delivered with a {@code DKIM-Signature} that Python's {@code dkim} (Debian's
 * {@code python3-dkim}, an implementation independent of both) verifies against the test key;
 * once OpenDKIM is gone, the default action (tempfail) holds the mail back.
 */
class OpenDkimTest {
  /** Debian's interpreter, which has python3-dkim (a pyenv python on PATH may not). */
  private static final String PYTHON = Files.exists(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
  private static final String VERIFY = String.join("\n",
      "import sys, dkim",
      "record = open(sys.argv[2], 'rb').read()",
      "def dns(name, timeout=5):",
      "    return record if name == b'test._domainkey.example.org.' else None",
      "message = open(sys.argv[1], 'rb').read()",
      "sys.exit(0 if dkim.verify(message, dnsfunc=dns) else 1)");

  @Test
  void submittedMailIsSignedAndVerifiesAndADeadOpenDkimTempfails() throws Exception {
    try (PosternTestServer server = PosternTestServer.create().start()) {
      Path dir = Files.createDirectories(server.root().resolve("opendkim"));
      assertEquals(0, run(dir, "opendkim-genkey", "-D", dir.toString(), "-d", "example.org", "-s", "test"), "opendkim-genkey failed");
      int port;
      try (ServerSocket s = new ServerSocket(0)) {
        port = s.getLocalPort();
      }
      Path conf = dir.resolve("opendkim.conf");
      Files.writeString(conf, String.join("\n",
          "Mode s", "Domain example.org", "Selector test", "KeyFile " + dir.resolve("test.private"),
          "Socket inet:" + port + "@127.0.0.1", "Background no", "Syslog no", "RequireSafeKeys no",
          "InternalHosts 127.0.0.1", "UMask 002", ""));
      Process dkim = new ProcessBuilder("opendkim", "-f", "-x", conf.toString())
          .redirectErrorStream(true).redirectOutput(dir.resolve("opendkim.log").toFile()).start();
      try {
        int p = port;
        Await.until("opendkim listening on " + port, 10_000, () -> {
          try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", p), 200);
            return true;
          } catch (java.io.IOException e) {
            return false;
          }
        });
        server.vertx().deployVerticle(MilterVerticle.class.getName(), new DeploymentOptions().setConfig(
                new JsonObject().put("milters", new JsonArray().add("inet:127.0.0.1:" + port))))
            .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);

        assertEquals(250, submit(server).code());
        Path delivered = server.awaitMailbox("alice", 1, 10_000).get(0);
        String mail = Files.readString(delivered, StandardCharsets.UTF_8);
        assertTrue(mail.contains("DKIM-Signature: v=1;"), mail);
        String txt = Files.readString(dir.resolve("test.txt"), StandardCharsets.UTF_8);
        // test.txt is a zone file line: the TXT strings, quoted, possibly split.
        StringBuilder record = new StringBuilder();
        java.util.regex.Matcher quoted = java.util.regex.Pattern.compile("\"([^\"]*)\"").matcher(txt);
        while (quoted.find()) {
          record.append(quoted.group(1));
        }
        Path recordFile = Files.writeString(dir.resolve("record"), record.toString());
        assertEquals(0, run(dir, PYTHON, "-c", VERIFY, delivered.toString(), recordFile.toString()),
            "python dkim did not verify:\n" + mail);

        // The signature really covers the content: one changed body byte and it no longer verifies.
        Path tampered = Files.writeString(dir.resolve("tampered"), mail.replace("signed by OpenDKIM", "signed by 0penDKIM"));
        assertEquals(1, run(dir, PYTHON, "-c", VERIFY, tampered.toString(), recordFile.toString()));
      } finally {
        dkim.destroy();
        dkim.waitFor(10, TimeUnit.SECONDS);
      }
      try (SmtpTestClient c = SmtpTestClient.connect(server.port())) {
        assertEquals(220, c.reply().code());
        assertEquals(250, c.command("EHLO client.example").code());
        assertEquals("451 4.7.1 Service unavailable - try again later",
            c.command("MAIL FROM:<sender@example.org>").toString());
      }
      assertEquals(1, server.mailbox("alice").size());
    }
  }

  private static SmtpTestClient.Reply submit(PosternTestServer server) throws Exception {
    try (CheckedSmtp c = CheckedSmtp.connect(server)) {
      c.ehlo("client.example");
      c.expect("MAIL FROM:<sender@example.org>", 250, "2.1.0");
      c.expect("RCPT TO:<alice@test.example>", 250, "2.1.5");
      c.expect("DATA", 354, null);
      return c.message("From: Sender <sender@example.org>\r\nTo: alice@test.example\r\n"
          + "Subject: a folded\r\n  subject line\r\nDate: Mon, 7 Dec 2026 01:00:00 +0000\r\n"
          + "Message-ID: <dkim-test@example.org>\r\n\r\nThis message is signed by OpenDKIM.\r\n"
          + "..A line that was dot-stuffed.\r\n\r\n");
    }
  }

  private static int run(Path dir, String... command) throws Exception {
    Process p = new ProcessBuilder(List.of(command)).directory(dir.toFile()).redirectErrorStream(true)
        .redirectOutput(dir.resolve(command[0].replaceAll(".*/", "") + ".out").toFile()).start();
    assertTrue(p.waitFor(30, TimeUnit.SECONDS), String.join(" ", command) + " did not finish");
    return p.exitValue();
  }
}
