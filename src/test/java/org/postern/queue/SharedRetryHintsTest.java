package org.postern.queue;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postern.spool.MessageLock;
import org.postern.spool.Spool;
import org.postern.testing.ChildPostern;
import org.postern.testing.PosternTestServer;
import org.postern.testing.ScriptedSmtpServer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.queue.RelayTesting.TRANSPORTS;
import static org.postern.queue.RelayTesting.await;
import static org.postern.queue.RelayTesting.awaitLog;
import static org.postern.queue.RelayTesting.awaitTrue;
import static org.postern.queue.RelayTesting.manualroute;
import static org.postern.queue.RelayTesting.send;

/**
 * Exim's hints database is one for every process on the spool: the daemon (a server in this JVM)
 * and a {@code postern -M} in a child JVM see each other's retry records. The remote host is a
 * port where nothing listens (connection refused) until a scripted server starts on it.
 */
@Timeout(180)
class SharedRetryHintsTest {
  private static final String CONTENT = "Subject: shared hints\r\n\r\nHello.\r\n";

  private static PosternTestServer daemon(int port, boolean queueOnly) throws Exception {
    return PosternTestServer.create()
        .option("routers", manualroute("127.0.0.1::" + port)).option("transports", TRANSPORTS)
        .option("queue_run_interval", "1h").option("queue_only", String.valueOf(queueOnly))
        .start();
  }

  private static Path hostRecord(PosternTestServer server, int port) {
    RetryDatabase db = new RetryDatabase(server.root().resolve("spool"), java.time.Duration.ofDays(7));
    return db.fileFor(RetryDatabase.hostKey("127.0.0.1", "127.0.0.1", port));
  }

  /** The daemon's attempt of the message is over: its lock is free again. */
  private static void awaitUnlocked(PosternTestServer server, String id) throws Exception {
    Spool spool = new Spool(server.root().resolve("spool"));
    awaitTrue("the daemon's attempt of " + id + " to end", () -> {
      try (MessageLock held = MessageLock.tryLock(spool, id).orElse(null)) {
        return held != null;
      } catch (java.io.IOException e) {
        return false;
      }
    });
  }

  /** The daemon's first delivery line for the recipient of the message: {@code =>} or {@code ==}. */
  private static String outcome(String id) throws Exception {
    return awaitLog(id, "bob@remote.example", " R=");
  }

  @Test
  void aHostClearedByDashMInAnotherProcessIsContactedByTheDaemon() throws Exception {
    int port = ChildPostern.freePort();
    try (PosternTestServer server = daemon(port, false)) {
      String first = send(server, "alice@test.example", CONTENT, "bob@remote.example");
      awaitLog(first, " == bob@remote.example", "defer");
      assertTrue(Files.exists(hostRecord(server, port)), "the daemon recorded the refused host");
      awaitUnlocked(server, first);

      ScriptedSmtpServer remote = await(ScriptedSmtpServer.create().start(server.vertx(), port));
      try {
        ChildPostern.Result forced = ChildPostern.run(server.root(), server.confDir().resolve("postern.yaml"), "",
            "-M", first);
        assertEquals(0, forced.exit(), forced::toString);
        assertEquals(1, remote.envelopes().size(), forced::toString);
        assertTrue(Files.notExists(hostRecord(server, port)), "-M removed the host's record");

        String second = send(server, "alice@test.example", CONTENT, "bob@remote.example");
        String line = outcome(second);
        assertTrue(line.contains(" => bob@remote.example"), line);
        awaitTrue("the second message at the remote", () -> remote.envelopes().size() == 2);
      } finally {
        await(remote.close());
      }
    }
  }

  @Test
  void aDeferRecordedByDashMInAnotherProcessHoldsTheDaemonBack() throws Exception {
    int port = ChildPostern.freePort();
    try (PosternTestServer server = daemon(port, true)) {
      String id = send(server, "alice@test.example", CONTENT, "bob@remote.example");
      // The daemon read the hints (none) when it started; the child writes one now.
      ChildPostern.Result forced = ChildPostern.run(server.root(), server.confDir().resolve("postern.yaml"), "",
          "-M", id);
      assertEquals(0, forced.exit(), forced::toString);
      assertTrue(Files.exists(hostRecord(server, port)), "-M recorded the refused host\n" + forced);

      ScriptedSmtpServer remote = await(ScriptedSmtpServer.create().start(server.vertx(), port));
      try {
        RelayTesting.runUntilStarted(server, new JsonObject().put("wait", true));
        String line = outcome(id);
        assertTrue(line.contains(" == bob@remote.example") && line.contains(RemoteDeliveries.RETRY_NOT_REACHED),
            line);
        assertEquals(0, remote.connections(), "the daemon waits for the host's retry time");
        assertEquals(List.of(id), new Spool(server.root().resolve("spool")).list());
      } finally {
        await(remote.close());
      }
    }
  }
}
