package org.postern.queue;

import io.vertx.core.Vertx;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postern.testing.ChildPostern;
import org.postern.testing.PosternTestServer;
import org.postern.testing.ScriptedSmtpServer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.postern.queue.RelayTesting.awaitTrue;
import static org.postern.queue.RelayTesting.manualroute;
import static org.postern.queue.RelayTesting.send;
import static org.postern.queue.RelayTesting.started;

/**
 * kill -9 of a relaying daemon (a child JVM) while some deliveries hang at the final dot: after the
 * restart every message is delivered, none is lost, and the only duplicates are messages that were
 * still on the spool (in flight) when the process died.
 */
@Timeout(180)
class RelayCrashTest {
  private static final int MESSAGES = 12;
  private static final Set<Integer> HANGING = Set.of(3, 7);
  private static final Pattern SUBJECT = Pattern.compile("\r\nSubject: (\\d+)\r\n");

  @Test
  void everyMessageIsDeliveredAfterKill9AndOnlyInFlightOnesTwice() throws Exception {
    Vertx vertx = Vertx.vertx();
    int port = ChildPostern.freePort();
    ScriptedSmtpServer first = started(vertx, ScriptedSmtpServer.create().hangAtDotFor("hang@remote.example"));
    try (PosternTestServer server = PosternTestServer.create()
        .option("listeners", "{ smtp: { address: 127.0.0.1, port: " + port + " } }")
        .option("routers", manualroute("127.0.0.1::" + first.port()))
        .option("transports", "{ remote_smtp: { driver: smtp, command_timeout: 60s, final_timeout: 60s } }")
        .option("remote_max_parallel", "4")) {
      ChildPostern daemon = ChildPostern.daemon(server.root(), server.writeConfig(), port);
      Set<Integer> inFlight = new TreeSet<>();
      try {
        for (int n = 1; n <= MESSAGES; n++) {
          String to = HANGING.contains(n) ? "hang@remote.example" : "r" + n + "@remote.example";
          send(port, "alice@test.example", "Subject: " + n + "\r\n\r\nmessage " + n + "\r\n", to);
        }
        awaitTrue("the other messages delivered", () -> first.envelopes().size() == MESSAGES - HANGING.size());
        awaitTrue("the hanging messages sent up to the dot", () -> first.commands("DATA").size() == MESSAGES);
        // The delivered ones are marked so and removed before the kill; the hanging ones stay.
        awaitTrue("only the hanging messages on the spool", () -> spooledSubjects(server).equals(HANGING));
      } finally {
        daemon.kill();
      }
      inFlight.addAll(spooledSubjects(server));

      ScriptedSmtpServer second = started(vertx, ScriptedSmtpServer.create());
      server.option("routers", manualroute("127.0.0.1::" + second.port()));
      ChildPostern restarted = ChildPostern.daemon(server.root(), server.writeConfig(), port);
      try {
        awaitTrue("the queue run after the restart", () -> second.envelopes().size() >= inFlight.size());
        awaitTrue("an empty spool", () -> spooledSubjects(server).isEmpty());
      } finally {
        restarted.kill();
      }

      List<Integer> before = subjects(first);
      List<Integer> after = subjects(second);
      Set<Integer> all = new TreeSet<>(before);
      all.addAll(after);
      assertEquals(MESSAGES, all.size(), "every message delivered: " + before + " then " + after);
      assertEquals(new TreeSet<>(before).size(), before.size(), "no duplicate before the kill: " + before);
      assertEquals(List.copyOf(inFlight), after, "after the restart, exactly the messages in flight at the kill");
      assertTrue(inFlight.containsAll(HANGING), inFlight.toString());
    } finally {
      RelayTesting.await(vertx.close());
    }
  }

  private static List<Integer> subjects(ScriptedSmtpServer server) {
    List<Integer> out = new ArrayList<>();
    for (ScriptedSmtpServer.Envelope e : server.envelopes()) {
      Matcher m = SUBJECT.matcher(e.text());
      assertTrue(m.find(), e.text());
      out.add(Integer.parseInt(m.group(1)));
    }
    out.sort(null);
    return out;
  }

  /** Subjects of the messages on the spool (those with an envelope). */
  private static Set<Integer> spooledSubjects(PosternTestServer server) {
    Set<Integer> out = new TreeSet<>();
    try {
      for (String f : server.spoolFiles()) {
        if (f.endsWith("-H")) {
          Path data = server.spoolInput().resolve(f.substring(0, f.length() - 2) + "-D");
          Matcher m = SUBJECT.matcher(Files.readString(data, StandardCharsets.ISO_8859_1));
          if (m.find()) {
            out.add(Integer.parseInt(m.group(1)));
          }
        }
      }
    } catch (Exception e) {
      return Set.of(-1);
    }
    return out;
  }
}
