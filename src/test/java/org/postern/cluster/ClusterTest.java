package org.postern.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.postern.config.ConfigLoader;
import org.postern.testing.Await;
import org.postern.testing.ChildPostern;
import org.postern.testing.SmtpTestClient;
import org.postern.testing.TestPki;

/**
 * Three Postern nodes in separate JVMs on loopback, clustered over Hazelcast with a cluster name of
 * their own, shared by every test of the class (a Hazelcast start costs seconds): configuration
 * generations converging under load, a change some nodes refuse, a node that joins late, AUTH
 * failure windows counted cluster-wide; and an unclustered daemon without Hazelcast threads.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterTest {
  private static final String CLUSTER = "postern-test-" + UUID.randomUUID().toString().substring(0, 8);
  private static final String SHIPPED_ACL = read(Path.of("conf", "acl.yaml"));
  private static final String BLOCKING_RULE = "acl_check_rcpt:\n"
      + "  - deny:    { local_parts: blocked, message: blocked by the cluster }\n";

  private static Path root;
  private static String members;
  private static final List<Node> NODES = new ArrayList<>();

  /** One node: its directory (conf/, spool/, log/), ports and process. */
  private static final class Node {
    final int number;
    final Path dir;
    final int smtpPort;
    final int clusterPort;
    ChildPostern process;

    Node(int number, int clusterPort) throws IOException {
      this.number = number;
      this.dir = root.resolve("node" + number);
      this.smtpPort = ChildPostern.freePort();
      this.clusterPort = clusterPort;
    }

    String name() {
      return "node" + number + ".test.example";
    }

    Path conf() {
      return dir.resolve("conf");
    }

    Path configFile() {
      return conf().resolve("postern.yaml");
    }

    /** Writes the shared files and this node's node.yaml. */
    Node write(String extraNodeSettings) throws IOException {
      Files.createDirectories(conf());
      Files.writeString(configFile(), posternYaml());
      Files.writeString(conf().resolve("acl.yaml"), SHIPPED_ACL);
      Files.writeString(conf().resolve("passwd"), "alice:{PLAIN}alice-secret\n");
      Files.writeString(conf().resolve("node.yaml"), String.join("\n",
          "primary_hostname: " + name(),
          "localhost_number: " + number,
          "listeners: { smtp: { address: 127.0.0.1, port: " + smtpPort + " } }",
          "tls_on_connect_ports: \"\"",
          "spool_directory: ../spool",
          "log_directory: ../log",
          "tls_directory: ../tls",
          "cluster: { host: 127.0.0.1, port: " + clusterPort + " }",
          extraNodeSettings, ""));
      return this;
    }

    Node start() throws Exception {
      process = ChildPostern.daemon(dir, configFile(), smtpPort, "--verticles", verticles().toString());
      return this;
    }

    String stderr() {
      return process.stderr();
    }
  }

  private static String posternYaml() {
    return String.join("\n",
        "primary_hostname: mx.test.example",
        "domainlist:",
        "  local_domains: \"localhost : @ : test.example\"",
        "acl_smtp_rcpt: acl_check_rcpt",
        "queue_only: true",
        "smtp_auth_failure_delay: 0s",
        "smtp_max_auth_failures: 100",
        "auth_failures_per_host: 10",
        "auth_failures_window: 10m",
        "cluster:",
        "  name: " + CLUSTER,
        "  members: \"" + members + "\"",
        "");
  }

  /** The shipped deployment, with the configuration scanned every 200 ms. */
  private static Path verticles() throws IOException {
    Path file = root.resolve("verticles.json");
    if (!Files.exists(file)) {
      Files.writeString(file, read(Path.of("verticles.json")).replace("{ \"name\": \"org.postern.config.ConfigVerticle\" }",
          "{ \"name\": \"org.postern.config.ConfigVerticle\", \"config\": { \"scan_period_ms\": 200 } }"));
    }
    return file;
  }

  @BeforeAll
  static void startThreeNodes() throws Exception {
    root = Files.createTempDirectory("postern-cluster");
    List<Integer> ports = List.of(ChildPostern.freePort(), ChildPostern.freePort(), ChildPostern.freePort());
    members = String.join(" : ", ports.stream().map(p -> "127.0.0.1:" + p).toList());
    TestPki.ServerFiles tls = TestPki.shared().writeServer(Files.createDirectories(root.resolve("pki")), "node2",
        TestPki.shared().server());
    for (int i = 1; i <= 3; i++) {
      // Node 2 has its own certificate: a change that names only a private key is valid there alone.
      NODES.add(new Node(i, ports.get(i - 1)).write(i == 2
          ? "tls_certificate: " + tls.certificate() + "\ntls_privatekey: " + tls.key() : ""));
    }
    long started = System.nanoTime();
    NODES.get(0).start();
    ExecutorService starting = Executors.newFixedThreadPool(2);
    try {
      List<Future<Node>> others = List.of(starting.submit(NODES.get(1)::start), starting.submit(NODES.get(2)::start));
      for (Future<Node> f : others) {
        f.get(90, TimeUnit.SECONDS);
      }
    } finally {
      starting.shutdownNow();
    }
    for (Node n : NODES) {
      Await.until(n.name() + " in a cluster of three", 30_000, () -> n.stderr().contains("Members {size:3"));
    }
    System.out.printf("three clustered nodes up in %d ms%n", (System.nanoTime() - started) / 1_000_000);
  }

  @AfterAll
  static void stopNodes() throws Exception {
    for (Node n : NODES) {
      if (n.process != null) {
        n.process.close();
      }
    }
  }

  private static Node node(int number) {
    return NODES.get(number - 1);
  }

  private static String read(Path p) {
    try {
      return Files.readString(p, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The generation the files of {@code node}'s conf/ make, as every node computes it. */
  private static String generation(Node node) throws Exception {
    return ConfigLoader.load(node.configFile()).generation();
  }

  /** Waits until {@code node} logged that {@code generation} is in force; the time it took from {@code since}. */
  private static long awaitGeneration(Node node, String generation, long since, long millis) throws Exception {
    Await.until(node.name() + " on generation " + generation, millis,
        () -> node.stderr().contains("configuration generation " + generation + " in force"));
    return (System.nanoTime() - since) / 1_000_000;
  }

  /**
   * One session from 127.0.0.1 with {@code messages} transactions (a session that spans a swap keeps
   * the generation it started with); the replies that were not the expected ones, or none.
   */
  private static String send(int port, String recipient, int messages, AtomicInteger sent) throws IOException {
    try (SmtpTestClient c = SmtpTestClient.connect(port)) {
      StringBuilder problems = new StringBuilder();
      expect(problems, c.reply(), 220);
      expect(problems, c.command("EHLO client.test.example"), 250);
      for (int i = 0; i < messages && problems.isEmpty(); i++) {
        expect(problems, c.command("MAIL FROM:<sender@client.test.example>"), 250);
        expect(problems, c.command("RCPT TO:<" + recipient + ">"), 250);
        expect(problems, c.command("DATA"), 354);
        expect(problems, c.command("Subject: cluster load\r\n\r\nhello\r\n."), 250);
        if (problems.isEmpty()) {
          sent.incrementAndGet();
        }
      }
      expect(problems, c.command("QUIT"), 221);
      return problems.toString();
    }
  }

  private static void expect(StringBuilder problems, SmtpTestClient.Reply reply, int code) {
    if (reply.code() != code) {
      problems.append(reply).append('\n');
    }
  }

  private static SmtpTestClient.Reply rcpt(int port, String recipient) throws IOException {
    try (SmtpTestClient c = SmtpTestClient.connect(port)) {
      c.reply();
      c.command("EHLO client.test.example");
      c.command("MAIL FROM:<sender@client.test.example>");
      return c.command("RCPT TO:<" + recipient + ">");
    }
  }

  private static void writeOn(Node node, String file, String text) throws IOException {
    Path target = node.conf().resolve(file);
    Path temp = target.resolveSibling(file + ".edit");
    Files.writeString(temp, text);
    Files.move(temp, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  @Test
  @Order(1)
  void anUnclusteredDaemonStartsNoHazelcastThread() throws Exception {
    Path dir = root.resolve("alone");
    Files.createDirectories(dir.resolve("conf"));
    int port = ChildPostern.freePort();
    Files.writeString(dir.resolve("conf/postern.yaml"), String.join("\n", "primary_hostname: alone.test.example",
        "listeners: { smtp: { address: 127.0.0.1, port: " + port + " } }", "tls_on_connect_ports: \"\"",
        "spool_directory: ../spool", "log_directory: ../log", "tls_directory: ../tls", ""));
    Files.writeString(dir.resolve("conf/acl.yaml"), SHIPPED_ACL);
    try (ChildPostern alone = ChildPostern.daemon(dir, dir.resolve("conf/postern.yaml"), port)) {
      String threads = threadDump(alone.process().pid());
      assertTrue(threads.contains("vert.x-eventloop-thread"), threads);
      assertFalse(threads.contains("\"hz."), "Hazelcast threads in an unclustered daemon:\n" + threads);
    }
    assertTrue(threadDump(node(1).process.process().pid()).contains("\"hz."), "a clustered node has Hazelcast threads");
  }

  private static String threadDump(long pid) throws Exception {
    Process jcmd = new ProcessBuilder("jcmd", String.valueOf(pid), "Thread.print").redirectErrorStream(true).start();
    String out = new String(jcmd.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(jcmd.waitFor(30, TimeUnit.SECONDS) && jcmd.exitValue() == 0, out);
    return out;
  }

  @Test
  @Order(2)
  void anAclEditOnNode2ReachesNodes1And3Within2sWhile20SessionsSend() throws Exception {
    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger sent = new AtomicInteger();
    ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    ExecutorService load = Executors.newFixedThreadPool(20);
    List<Future<?>> senders = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      int port = node(i % 3 + 1).smtpPort;
      senders.add(load.submit(() -> {
        while (!stop.get()) {
          try {
            String problems = send(port, "alice@test.example", 10, sent);
            if (!problems.isEmpty()) {
              failures.add(problems);
            }
          } catch (IOException e) {
            failures.add(e.toString());
          }
        }
        return null;
      }));
    }
    try {
      Await.until("the load running", 30_000, () -> sent.get() >= 60);
      long edited = System.nanoTime();
      writeOn(node(2), "acl.yaml", SHIPPED_ACL.replace("acl_check_rcpt:\n", BLOCKING_RULE));
      String generation = generation(node(2));
      long onNode2 = awaitGeneration(node(2), generation, edited, 10_000);
      long onNode1 = awaitGeneration(node(1), generation, edited, 10_000);
      long onNode3 = awaitGeneration(node(3), generation, edited, 10_000);
      int before = sent.get();
      Await.until("more messages after the swap", 30_000, () -> sent.get() >= before + 60);
      stop.set(true);
      for (Future<?> f : senders) {
        f.get(60, TimeUnit.SECONDS);
      }
      System.out.printf("acl.yaml edit on node 2 in force there after %d ms, on node 1 after %d ms, node 3 after %d ms;"
          + " %d messages%n", onNode2, onNode1, onNode3, sent.get());
      assertEquals(List.of(), List.copyOf(failures), "failed sessions");
      assertTrue(onNode1 <= 2000 && onNode3 <= 2000, "converged after " + onNode1 + " / " + onNode3 + " ms");
      for (Node n : NODES) {
        SmtpTestClient.Reply refused = rcpt(n.smtpPort, "blocked@test.example");
        assertEquals(550, refused.code(), n.name() + ": " + refused);
        assertTrue(refused.text().contains("blocked by the cluster"), refused.toString());
        assertEquals(read(node(2).conf().resolve("acl.yaml")), read(n.conf().resolve("acl.yaml")),
            n.name() + " wrote the generation into its conf/");
      }
      ChildPostern.Result printed = ChildPostern.run(node(3).dir, node(3).configFile(), "", "-bP", "config_generation");
      assertEquals("config_generation = " + generation + "\n", printed.stdout(), printed.toString());

      // Every node spooled its share (queue_only): -bpc --cluster counts each node's queue.
      ChildPostern.Result queues = ChildPostern.run(node(1).dir, node(1).configFile(), "", "-bpc", "--cluster");
      assertEquals(0, queues.exit(), queues.toString());
      for (Node n : NODES) {
        assertTrue(queues.stdout().matches("(?s).*node " + n.name().replace(".", "\\.") + ":\n[1-9][0-9]*\n.*"),
            queues.toString());
      }

      // -M --cluster: every node is asked; only the one whose spool holds the message delivers it.
      String id;
      try (var files = Files.list(node(3).dir.resolve("spool/input"))) {
        id = files.map(f -> f.getFileName().toString()).filter(f -> f.endsWith("-H")).findFirst().orElseThrow()
            .replace("-H", "");
      }
      assertEquals('3', id.charAt(7), "node 3's localhost_number is in its ids: " + id);
      ChildPostern.Result delivered = ChildPostern.run(node(1).dir, node(1).configFile(), "", "-M", id, "--cluster");
      assertEquals(0, delivered.exit(), delivered.toString());
      assertTrue(delivered.stdout().contains("node node3.test.example: 1 started\n"), delivered.toString());
      assertTrue(delivered.stdout().contains("node node1.test.example: 0 started\n"), delivered.toString());
      assertFalse(Files.exists(node(3).dir.resolve("spool/input/" + id + "-H")), id + " delivered and gone");
    } finally {
      stop.set(true);
      load.shutdownNow();
    }
  }

  @Test
  @Order(3)
  void aChangeThatSomeNodesRefuseLeavesThemOnTheirGeneration() throws Exception {
    String before = generation(node(1));
    String original = read(node(2).configFile());
    long edited = System.nanoTime();
    // Valid on node 2 only: its node.yaml gives the certificate that goes with the key.
    writeOn(node(2), "postern.yaml", original + "tls_privatekey: ../private.key\n");
    String refusedGeneration = generation(node(2));
    awaitGeneration(node(2), refusedGeneration, edited, 10_000);
    for (Node n : List.of(node(1), node(3))) {
      Await.until(n.name() + " refusing " + refusedGeneration, 10_000, () -> n.stderr().contains(
          "generation " + refusedGeneration + " from node2.test.example refused")
          && n.stderr().contains("tls_privatekey without tls_certificate"));
      assertEquals(original, read(n.configFile()), n.name() + " kept its files");
      // The main log is written asynchronously: its line may follow the stderr one.
      Await.until(n.name() + "'s main log", 10_000, () -> read(n.dir.resolve("log/mainlog"))
          .contains("configuration refused, generation " + before + " stays in force"));
    }
    ChildPostern.Result status = ChildPostern.run(node(1).dir, node(1).configFile(), "", "--cluster-status");
    assertEquals(0, status.exit(), status.toString());
    String out = status.stdout();
    assertTrue(out.contains("cluster " + CLUSTER + ": generation " + refusedGeneration), out);
    assertTrue(out.contains("3 members"), out);
    assertTrue(out.matches("(?s).*node1\\.test\\.example \\S+ generation " + before + " refused: generation "
        + refusedGeneration + " .*"), out);
    assertTrue(out.matches("(?s).*node2\\.test\\.example \\S+ generation " + refusedGeneration + "\n.*"), out);

    // Taken back on node 2: every node is on one generation again, and nothing is refused any more.
    writeOn(node(2), "postern.yaml", original);
    Await.until("the cluster back on " + before, 40_000, () -> {
      String now = ChildPostern.run(node(3).dir, node(3).configFile(), "", "--cluster-status").stdout();
      return now.contains(": generation " + before) && !now.contains("refused");
    });
  }

  @Test
  @Order(4)
  void aNodeThatJoinsAdoptsTheCurrentGenerationBeforeItServes() throws Exception {
    long edited = System.nanoTime();
    writeOn(node(1), "acl.yaml", read(node(1).conf().resolve("acl.yaml")) + "\n# edited on node 1\n");
    String current = generation(node(1));
    awaitGeneration(node(3), current, edited, 10_000);

    // Node 4 starts from the shipped files: it must come up on the cluster's generation instead.
    Node late = new Node(4, ChildPostern.freePort()).write("");
    assertTrue(!current.equals(generation(late)));
    try {
      late.start();
      assertTrue(late.stderr().contains("configuration generation " + current + " adopted from the cluster"),
          late.stderr());
      assertEquals(read(node(1).conf().resolve("acl.yaml")), read(late.conf().resolve("acl.yaml")));
      assertEquals(current, generation(late), "a restart comes up on it");
    } finally {
      if (late.process != null) {
        // SIGTERM: it leaves the cluster at once, rather than after the heartbeat timeout.
        late.process.process().destroy();
        late.process.waitFor(30_000);
        late.process.close();
      }
    }

    // Without a localhost_number a node's ids could collide with any other's: it does not start.
    Node unnumbered = new Node(6, ChildPostern.freePort()).write("");
    Files.writeString(unnumbered.conf().resolve("node.yaml"), read(unnumbered.conf().resolve("node.yaml"))
        .replace("localhost_number: 6\n", ""));
    ChildPostern.Result missing = ChildPostern.run(unnumbered.dir, unnumbered.configFile(), "");
    assertEquals(2, missing.exit(), missing.toString());
    assertTrue(missing.stderr().contains("postern: configuration error: node.yaml: localhost_number: clustered mode"
        + " needs a number from 0 to 16"), missing.stderr());

    // A node with another's localhost_number would make the same message ids: it does not start.
    Node twin = new Node(5, ChildPostern.freePort()).write("");
    Files.writeString(twin.conf().resolve("node.yaml"), read(twin.conf().resolve("node.yaml"))
        .replace("localhost_number: 5", "localhost_number: 1"));
    ChildPostern.Result refused = ChildPostern.run(twin.dir, twin.configFile(), "", "--verticles", verticles().toString());
    assertEquals(1, refused.exit(), refused.toString());
    assertTrue(refused.stderr().contains("localhost_number 1 is already used by a running node of cluster " + CLUSTER),
        refused.stderr());
  }

  @Test
  @Order(5)
  void authFailuresSpreadOverThreeNodesTripTheLimitAsOnOne() throws Exception {
    String wrong = "AUTH PLAIN " + Base64.getEncoder().encodeToString("\0alice\0wrong".getBytes(StandardCharsets.UTF_8));
    String right = "AUTH PLAIN " + Base64.getEncoder().encodeToString("\0alice\0alice-secret".getBytes(StandardCharsets.UTF_8));
    List<String> replies = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      try (SmtpTestClient c = SmtpTestClient.connect(node(i % 3 + 1).smtpPort)) {
        c.reply();
        c.command("EHLO client.test.example");
        SmtpTestClient.Reply r = c.command(wrong);
        replies.add(r.code() + " " + r.enhanced());
      }
    }
    assertEquals(java.util.Collections.nCopies(10, "535 5.7.8"), replies);
    for (Node n : NODES) {
      try (SmtpTestClient c = SmtpTestClient.connect(n.smtpPort)) {
        c.reply();
        c.command("EHLO client.test.example");
        SmtpTestClient.Reply r = c.command(right);
        assertEquals(454, r.code(), n.name() + ": " + r);
        assertEquals("4.7.0", r.enhanced(), r.toString());
      }
    }
  }

  @Test
  @Order(6)
  void concurrentEditsOnTwoNodesEndOnOneOfThemEverywhere() throws Exception {
    String base = read(node(1).conf().resolve("acl.yaml"));
    String fromOne = base + "\n# edited on node 1 at the same time\n";
    String fromThree = base + "\n# edited on node 3 at the same time\n";
    String one = generationWith(node(1), fromOne);
    String three = generationWith(node(3), fromThree);
    writeOn(node(1), "acl.yaml", fromOne);
    writeOn(node(3), "acl.yaml", fromThree);
    String winner = Await.value(20_000, () -> {
      List<String> now = new ArrayList<>();
      for (Node n : NODES) {
        now.add(generation(n));
      }
      return now.stream().distinct().count() == 1 ? now.get(0) : null;
    }, g -> g != null && (g.equals(one) || g.equals(three)));
    assertTrue(winner != null && (winner.equals(one) || winner.equals(three)), "one generation everywhere: " + winner);
    String loser = winner.equals(one) ? three : one;
    for (Node n : NODES) {
      Await.until(n.name() + " on " + winner, 10_000,
          () -> n.stderr().contains("configuration generation " + winner + " in force"));
      assertEquals(winner.equals(one) ? fromOne : fromThree, read(n.conf().resolve("acl.yaml")), n.name());
      // No node took the losing edit for the winner.
      assertFalse(n.stderr().contains("superseded by generation " + loser), n.name());
    }
  }

  /** The generation {@code node}'s conf/ would make with {@code acl} as its acl.yaml (computed in a copy). */
  private static String generationWith(Node node, String acl) throws Exception {
    Path copy = Files.createTempDirectory(root, "scratch");
    for (String f : List.of("postern.yaml", "passwd", "node.yaml")) {
      Files.copy(node.conf().resolve(f), copy.resolve(f));
    }
    Files.writeString(copy.resolve("acl.yaml"), acl);
    return ConfigLoader.load(copy.resolve("postern.yaml")).generation();
  }
}
