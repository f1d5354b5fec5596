package org.postern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postern.testing.Await;
import org.postern.testing.ChildPostern;
import org.postern.testing.Haproxy;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two Postern daemons (child JVMs, each with its own spool: unclustered) behind one HAProxy
 * (roundrobin, {@code send-proxy-v2}, health checks) under a load of messages with unique
 * Message-IDs. One node is killed with SIGKILL mid-load, the other must go on serving, the killed
 * one restarts on its spool; then every message that got 250 from either node is in a maildir
 * exactly once, and every delivered message names the real client in its Received header.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class ProxiedKillTest {
  private static final int CLIENTS = 6;
  private static final int MESSAGES_PER_CONNECTION = 3;
  private static final Pattern MESSAGE_ID = Pattern.compile("\r\nMessage-ID: <(\\d+)@proxied-kill\\.test>\r\n");
  private static final Pattern GREETING = Pattern.compile("^(node-[ab])\\.test\\.example ");

  /** Message numbers whose final dot was sent. */
  private final java.util.Set<Integer> sent = ConcurrentHashMap.newKeySet();
  /** Message number -> the node whose 250 acknowledged it. */
  private final Map<Integer, String> acked = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> ackedBy = Map.of("node-a", new AtomicInteger(), "node-b", new AtomicInteger());
  private final AtomicInteger next = new AtomicInteger(1);
  private final List<Throwable> errors = Collections.synchronizedList(new ArrayList<>());
  /** While set, a broken connection to node-a is the kill, not a failure. */
  private final AtomicBoolean killing = new AtomicBoolean();
  /** Sessions that the kill broke (or HAProxy could not place while node-a was down). */
  private final AtomicInteger broken = new AtomicInteger();

  private record Node(String name, PosternTestServer files, Path config, int port) {
  }

  private static Node node(String name) throws Exception {
    int port = ChildPostern.freePort();
    PosternTestServer files = PosternTestServer.create()
        .option("primary_hostname", name + ".test.example")
        .option("listeners", "{ smtp: { address: 127.0.0.1, port: " + port + " } }")
        .option("tls_on_connect_ports", "\"\"")
        .option("hosts_proxy", Haproxy.SOURCE);
    return new Node(name, files, files.writeConfig(), port);
  }

  @Test
  void everyAcknowledgedMessageIsDeliveredOnceWhenANodeBehindHaproxyIsKilled() throws Exception {
    Node a = node("node-a");
    Node b = node("node-b");
    ChildPostern nodeA = ChildPostern.daemon(a.files().root(), a.config(), a.port());
    ChildPostern nodeB = ChildPostern.daemon(b.files().root(), b.config(), b.port());
    String checks = "check inter 200ms fall 1 rise 1";
    AtomicBoolean stop = new AtomicBoolean();
    List<Thread> clients = new ArrayList<>();
    try (Haproxy haproxy = Haproxy.start(a.files().root().resolve("haproxy"), List.of(
        Haproxy.server("a", a.port(), "send-proxy-v2 " + checks),
        Haproxy.server("b", b.port(), "send-proxy-v2 " + checks)), "  balance roundrobin\n")) {
      for (int i = 0; i < CLIENTS; i++) {
        Thread t = new Thread(() -> clientLoop(haproxy.port(), stop), "proxied-client-" + i);
        t.setDaemon(true);
        clients.add(t);
        t.start();
      }
      awaitAcks("both nodes serve", () -> ackedBy.get("node-a").get() >= 30 && ackedBy.get("node-b").get() >= 30,
          haproxy, nodeA, nodeB);

      killing.set(true);
      nodeA.kill();
      int bAtKill = ackedBy.get("node-b").get();
      awaitAcks("node-b goes on serving after node-a was killed", () -> ackedBy.get("node-b").get() >= bAtKill + 60,
          haproxy, nodeA, nodeB);

      nodeA = ChildPostern.daemon(a.files().root(), a.config(), a.port());
      int aAtRestart = ackedBy.get("node-a").get();
      awaitAcks("node-a serves again after its restart", () -> ackedBy.get("node-a").get() >= aAtRestart + 20,
          haproxy, nodeA, nodeB);
      killing.set(false);
      stop.set(true);
      for (Thread t : clients) {
        t.join(30_000);
        assertTrue(!t.isAlive(), t.getName() + " did not stop");
      }
      System.out.println("ProxiedKillTest: " + acked.size() + " message(s) acknowledged (node-a "
          + ackedBy.get("node-a") + ", node-b " + ackedBy.get("node-b") + " of which " + bAtKill
          + " before the kill), " + sent.size() + " sent, " + broken + " session(s) broken by the kill");
      assertTrue(errors.isEmpty(), () -> "client errors while the nodes were up: " + errors);

      awaitSpoolEmpty(a, nodeA);
      awaitSpoolEmpty(b, nodeB);
      verifyDeliveredOnce(List.of(a, b), nodeA.diagnostics() + "\n" + nodeB.diagnostics());
    } finally {
      stop.set(true);
      nodeA.close();
      nodeB.close();
      a.files().close();
      b.files().close();
    }
  }

  private void awaitAcks(String what, Await.Condition condition, Haproxy haproxy, ChildPostern... nodes)
      throws Exception {
    boolean reached = Await.holdsWithin(60_000, () -> condition.holds() || !errors.isEmpty());
    assertTrue(reached && errors.isEmpty(), () -> what + ": not within 60 s (node-a " + ackedBy.get("node-a")
        + ", node-b " + ackedBy.get("node-b") + "), errors " + errors + "\n" + haproxy.output() + "\n"
        + String.join("\n", java.util.Arrays.stream(nodes).map(ChildPostern::diagnostics).toList()));
  }

  private void clientLoop(int port, AtomicBoolean stop) {
    while (!stop.get()) {
      String servedBy = null;
      try (SmtpTestClient c = SmtpTestClient.connectFrom(Haproxy.CLIENT, port)) {
        SmtpTestClient.Reply greeting = c.reply();
        Matcher node = GREETING.matcher(greeting.code() == 220 ? greeting.lines().get(0) : "");
        if (!node.find()) {
          throw new ProtocolError("greeting " + greeting);
        }
        servedBy = node.group(1);
        expect(c.command("EHLO client.test.example"), 250);
        for (int m = 0; m < MESSAGES_PER_CONNECTION && !stop.get(); m++) {
          int n = next.getAndIncrement();
          expect(c.command("MAIL FROM:<load@client.test.example>"), 250);
          expect(c.command("RCPT TO:<alice@test.example>"), 250);
          expect(c.command("DATA"), 354);
          c.sendRaw(message(n));
          sent.add(n);
          c.send(".\r\n");
          expect(c.reply(), 250);
          acked.put(n, servedBy);
          ackedBy.get(servedBy).incrementAndGet();
        }
        c.command("QUIT");
      } catch (IOException e) {
        // Only node-a is killed: a session with it may break then (or one HAProxy could not place
        // while it was down); anything else is a failure.
        if (!killing.get() || "node-b".equals(servedBy)) {
          errors.add(new AssertionError((servedBy == null ? "before a greeting" : servedBy) + ": " + e, e));
          return;
        }
        broken.incrementAndGet();
      }
    }
  }

  private static void expect(SmtpTestClient.Reply reply, int code) throws ProtocolError {
    if (reply.code() != code) {
      throw new ProtocolError("expected " + code + ", got " + reply);
    }
  }

  /** A reply other than the one expected, while the node is up. */
  private static final class ProtocolError extends IOException {
    ProtocolError(String message) {
      super(message);
    }
  }

  private static byte[] message(int n) {
    return ("From: <load@client.test.example>\r\nTo: <alice@test.example>\r\nMessage-ID: <" + n
        + "@proxied-kill.test>\r\nSubject: " + n + "\r\n\r\n" + body(n)).getBytes(StandardCharsets.US_ASCII);
  }

  private static String body(int n) {
    return ("message " + n + " through haproxy\r\n").repeat(20);
  }

  /** Waits until no committed message (one with an envelope) is left in the node's spool. */
  private static void awaitSpoolEmpty(Node node, ChildPostern daemon) throws Exception {
    List<String> left = Await.value(60_000, () -> {
      List<String> files = node.files().spoolFiles();
      return files.stream().filter(f -> f.endsWith("-H")).toList();
    }, List::isEmpty);
    assertEquals(List.of(), left, () -> node.name() + ": spool not emptied within 60 s\n" + daemon.diagnostics());
  }

  private void verifyDeliveredOnce(List<Node> nodes, String diagnostics) throws IOException {
    Map<Integer, List<String>> copies = new TreeMap<>();
    List<String> problems = new ArrayList<>();
    for (Node node : nodes) {
      for (Path file : node.files().mailbox("alice")) {
        String text = Files.readString(file, StandardCharsets.US_ASCII);
        int split = text.indexOf("\r\n\r\n");
        Matcher id = MESSAGE_ID.matcher(split < 0 ? "" : text.substring(0, split + 2));
        if (!id.find()) {
          problems.add(node.name() + "/" + file.getFileName() + ": no Message-ID");
          continue;
        }
        int n = Integer.parseInt(id.group(1));
        String received = text.substring(text.indexOf("Received: "), text.indexOf("\r\n", text.indexOf(";")));
        if (!received.contains("[127.0.0.2]") || received.contains(Haproxy.SOURCE)) {
          problems.add(node.name() + ": message " + n + " does not name the client: " + received);
        }
        if (!text.substring(split + 4).equals(body(n))) {
          problems.add(node.name() + ": message " + n + " is not the content sent");
        }
        if (!sent.contains(n)) {
          problems.add(node.name() + ": message " + n + " delivered although its final dot was never sent");
        }
        copies.computeIfAbsent(n, k -> new ArrayList<>()).add(node.name() + "/" + file.getFileName());
      }
    }
    List<Integer> missing = acked.keySet().stream().filter(n -> !copies.containsKey(n)).sorted().toList();
    Map<Integer, List<String>> duplicated = new TreeMap<>();
    copies.forEach((n, c) -> {
      if (c.size() > 1) {
        duplicated.put(n, c);
      }
    });
    System.out.println("ProxiedKillTest: " + copies.size() + " distinct message(s) delivered, "
        + copies.keySet().stream().filter(n -> !acked.containsKey(n)).count() + " of them without a 250 seen");
    assertTrue(problems.isEmpty() && missing.isEmpty() && duplicated.isEmpty(), () -> "acknowledged but missing ("
        + missing.size() + "): " + missing + "\nstored more than once: " + duplicated + "\nproblems: " + problems
        + "\n" + diagnostics);
  }
}
