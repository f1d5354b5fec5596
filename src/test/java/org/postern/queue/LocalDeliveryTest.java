package org.postern.queue;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.postern.testing.PosternTestServer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.queue.RelayTesting.assertSpoolEmpty;
import static org.postern.queue.RelayTesting.awaitLog;
import static org.postern.queue.RelayTesting.envelope;
import static org.postern.queue.RelayTesting.mainlog;

/**
 * Local delivery as the queue does it for a freshly accepted message: in the attempt's own worker
 * task for a few mailboxes, through the maildir transport on the bus for more, and the file
 * system's failures deferring the recipient, never losing the message.
 */
class LocalDeliveryTest {
  @Test
  void aMaildirRemovedWhileTheServerRunsIsMadeAgain() throws Exception {
    try (PosternTestServer server = PosternTestServer.create().start()) {
      String first = server.accept("<sender@example.org>", "alice@test.example");
      awaitLog(first, " Completed");
      Path maildir = server.root().resolve("maildir").resolve("alice");
      deleteTree(maildir);
      String second = server.accept("<sender@example.org>", "alice@test.example");
      awaitLog(second, " => alice <alice@test.example> R=localuser T=maildir");
      awaitLog(second, " Completed");
      assertEquals(1, server.mailbox("alice").size());
      for (String sub : List.of("tmp", "new", "cur")) {
        assertTrue(Files.isDirectory(maildir.resolve(sub)), sub);
      }
      assertSpoolEmpty(server);
    }
  }

  @Test
  void aMaildirThatCannotBeMadeDefersAndKeepsTheMessageUntilItCan() throws Exception {
    try (PosternTestServer server = PosternTestServer.create().start()) {
      Path maildir = server.root().resolve("maildir").resolve("alice");
      Files.createDirectories(maildir.getParent());
      // A file where the maildir should be: no tmp/ can be made under it.
      Files.writeString(maildir, "not a directory");
      String id = server.accept("<sender@example.org>", "alice@test.example");
      String line = awaitLog(id, " == alice <alice@test.example> R=localuser T=maildir defer: ");
      assertTrue(line.contains("FileSystemException") || line.contains("FileAlreadyExistsException")
          || line.contains("NotDirectory"), line);
      RelayTesting.awaitTrue("the message unlocked and still queued", () -> {
        try {
          return server.spoolFiles().contains(id + "-H") && server.spoolFiles().contains(id + "-D")
              && envelope(server, id).getJsonArray("recipients").getJsonObject(0).getString("state").equals("pending");
        } catch (Exception e) {
          return false;
        }
      });
      assertTrue(mainlog(id).stream().noneMatch(l -> l.contains(" => ") || l.contains(" Completed")), mainlog(id).toString());
      // Mended: the next run delivers it.
      Files.delete(maildir);
      RelayTesting.runUntilStarted(server, new JsonObject().put("force", true).put("wait", true));
      awaitLog(id, " => alice <alice@test.example> R=localuser T=maildir");
      awaitLog(id, " Completed");
      assertEquals(1, server.mailbox("alice").size());
      assertSpoolEmpty(server);
    }
  }

  @Test
  void moreMailboxesThanTheAttemptWritesItselfGoThroughTheTransport() throws Exception {
    try (PosternTestServer server = PosternTestServer.create()
        .users("admin:", "u1:", "u2:", "u3:", "u4:", "u5:", "u6:")
        .aliases("team: u1, u2, u3, u4, u5, u6", "postmaster: admin").start()) {
      assertTrue(6 > QueueVerticle.INLINE_MAILBOXES);
      String id = server.accept("<sender@example.org>", "team@test.example", "u1@test.example");
      awaitLog(id, " Completed");
      for (int i = 1; i <= 6; i++) {
        assertEquals(1, server.mailbox("u" + i).size(), "u" + i);
      }
      List<String> deliveries = mainlog(id).stream().filter(l -> l.contains(" => "))
          .map(l -> l.substring(l.indexOf("=> "))).toList();
      assertEquals(List.of("=> u1 <team@test.example> R=localuser T=maildir", "=> u2 <team@test.example> R=localuser T=maildir",
          "=> u3 <team@test.example> R=localuser T=maildir", "=> u4 <team@test.example> R=localuser T=maildir",
          "=> u5 <team@test.example> R=localuser T=maildir", "=> u6 <team@test.example> R=localuser T=maildir"),
          deliveries);
      assertSpoolEmpty(server);
    }
  }

  private static void deleteTree(Path root) throws Exception {
    try (Stream<Path> all = Files.walk(root)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
