package org.postern.testing;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.postern.metrics.NodeMeters;
import io.vertx.core.json.JsonArray;
import org.postern.cli.VerticleDeployer;
import org.postern.listener.ListenerVerticle;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real Postern for tests: its own Vert.x, a temporary conf/ (copied from the shipped one, with
 * options overridden), spool and maildir directories, and the verticles of {@code verticles.json}
 * listening on ephemeral loopback ports.
 */
public final class PosternTestServer implements AutoCloseable {
  private final Path root;
  private final Path confDir;
  private final Map<String, String> options = new LinkedHashMap<>();
  private final java.util.Set<String> left = new java.util.HashSet<>();
  private final Map<String, java.util.function.Supplier<? extends io.vertx.core.Deployable>> replaced = new LinkedHashMap<>();
  private final Map<String, Integer> instances = new LinkedHashMap<>();
  private Vertx vertx;
  private int smtpPort;
  private boolean shippedMain;

  /** System property naming the {@code tls_engine} of every test server; unset = the default (auto). */
  public static final String TLS_ENGINE_PROPERTY = "postern.test.tls_engine";

  private PosternTestServer(Path root) {
    this.root = root;
    this.confDir = root.resolve("conf");
  }

  /** A server in a fresh temporary directory with the shipped configuration. */
  public static PosternTestServer create() throws IOException {
    Path root = Files.createTempDirectory("postern-test");
    PosternTestServer s = new PosternTestServer(root);
    Files.createDirectories(s.confDir);
    for (String f : List.of("acl.yaml", "passwd", "aliases")) {
      Files.copy(Path.of("conf", f), s.confDir.resolve(f));
    }
    s.options.put("primary_hostname", "mx.test.example");
    // The build runs the TLS tests once per engine (pom.xml, execution tls-jdk): auto, then jdk.
    String engine = System.getProperty(TLS_ENGINE_PROPERTY);
    if (engine != null) {
      s.options.put("tls_engine", engine);
    }
    s.options.put("listeners", "{ smtp: { address: 127.0.0.1, port: 0 } }");
    s.options.put("domainlist", "{ local_domains: \"localhost : @ : test.example\" }");
    s.options.put("acl_smtp_rcpt", "acl_check_rcpt");
    s.options.put("acl_smtp_expn", "acl_check_expn");
    s.options.put("acl_smtp_etrn", "acl_check_etrn");
    s.options.put("spool_directory", "../spool");
    s.options.put("maildir_directory", "../maildir");
    s.options.put("log_directory", "../log");
    s.users("admin:", "alice:{PLAIN}alice-secret", "bob:{PLAIN}bob-secret");
    return s;
  }

  /** Sets a top-level option of postern.yaml (value in YAML syntax). Call before {@link #start()}. */
  public PosternTestServer option(String name, String yamlValue) {
    options.put(name, yamlValue);
    return this;
  }

  /**
   * Starts postern.yaml from the shipped conf/postern.yaml instead of an empty file: its named lists,
   * ACL bindings and AUTH defaults apply, and only the options set here (listeners, directories,
   * host name, ...) replace the shipped top-level blocks of the same name. Drops this class's own
   * test defaults for local_domains and the ACL bindings, so the shipped ones are in force.
   */
  public PosternTestServer shippedMainConfig() {
    shippedMain = true;
    for (String own : List.of("domainlist", "acl_smtp_rcpt", "acl_smtp_expn", "acl_smtp_etrn")) {
      options.remove(own);
    }
    return this;
  }

  /** Drops a top-level option of postern.yaml, so the loader's default applies. Call before {@link #start()}. */
  public PosternTestServer withoutOption(String name) {
    options.remove(name);
    return this;
  }

  /** Leaves a verticle of verticles.json (class name) out of {@link #start()}, e.g. the queue. */
  public PosternTestServer without(String verticleClass) {
    left.add(verticleClass);
    return this;
  }

  /** Deploys the verticle of verticles.json named {@code verticleClass} from {@code instance} instead. */
  public PosternTestServer replace(String verticleClass, java.util.function.Supplier<? extends io.vertx.core.Deployable> instance) {
    replaced.put(verticleClass, instance);
    return this;
  }

  /** Deploys {@code count} instances of the verticle of verticles.json named {@code verticleClass}. */
  public PosternTestServer instances(String verticleClass, int count) {
    instances.put(verticleClass, count);
    return this;
  }

  /** Replaces conf/passwd. */
  public PosternTestServer users(String... lines) throws IOException {
    Files.writeString(confDir.resolve("passwd"), String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
    return this;
  }

  /** Replaces conf/aliases. */
  public PosternTestServer aliases(String... lines) throws IOException {
    Files.writeString(confDir.resolve("aliases"), String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
    return this;
  }

  /** Replaces conf/acl.yaml. */
  public PosternTestServer acl(String yaml) throws IOException {
    Files.writeString(confDir.resolve("acl.yaml"), yaml, StandardCharsets.UTF_8);
    return this;
  }

  /** Writes conf/postern.yaml from the options. */
  public Path writeConfig() throws IOException {
    StringBuilder sb = new StringBuilder();
    if (shippedMain) {
      sb.append(shippedWithout(options.keySet()));
    }
    options.forEach((k, v) -> sb.append(k).append(": ").append(v).append('\n'));
    Path file = confDir.resolve("postern.yaml");
    Files.writeString(file, sb.toString(), StandardCharsets.UTF_8);
    return file;
  }

  /** The shipped postern.yaml without the top-level blocks (key line and indented lines) named in {@code keys}. */
  private static String shippedWithout(java.util.Set<String> keys) throws IOException {
    StringBuilder sb = new StringBuilder();
    boolean skipping = false;
    for (String line : Files.readAllLines(Path.of("conf", "postern.yaml"), StandardCharsets.UTF_8)) {
      boolean topLevel = !line.isEmpty() && !Character.isWhitespace(line.charAt(0)) && !line.startsWith("#");
      if (topLevel) {
        int colon = line.indexOf(':');
        skipping = colon > 0 && keys.contains(line.substring(0, colon).strip());
      }
      if (!skipping) {
        sb.append(line).append('\n');
      }
    }
    return sb.toString();
  }

  /** Deploys every verticle of verticles.json and waits until the listener is up. */
  public PosternTestServer start() throws Exception {
    deploy(name -> !left.contains(name));
    smtpPort = vertx.sharedData().<String, Integer>getLocalMap(ListenerVerticle.PORTS).get("smtp");
    return this;
  }

  /**
   * Deploys only what an SMTP session needs behind the listener (the config, ACL, auth and session
   * verticles of verticles.json), for {@link InMemorySmtp}: no socket is opened, nothing is queued
   * or delivered, so whatever a session accepts stays in the spool.
   */
  public PosternTestServer startSessions() throws Exception {
    deploy(name -> SESSION_TIER.contains(name) && !left.contains(name));
    return this;
  }

  private static final java.util.Set<String> SESSION_TIER = java.util.Set.of(
      org.postern.config.ConfigVerticle.class.getName(), org.postern.acl.AclVerticle.class.getName(),
      org.postern.auth.AuthVerticle.class.getName(), org.postern.session.SessionVerticle.class.getName());

  private void deploy(java.util.function.Predicate<String> include) throws Exception {
    Path config = writeConfig();
    vertx = NodeMeters.vertx(new VertxOptions());
    JsonArray list = VerticleDeployer.read(Path.of("verticles.json"));
    for (int i = 0; i < list.size(); i++) {
      Integer count = instances.get(list.getJsonObject(i).getString("name"));
      if (count != null) {
        list.getJsonObject(i).put("instances", count);
      }
    }
    VerticleDeployer.deploy(vertx, list, config, include, replaced)
        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  public int port() {
    return smtpPort;
  }

  /**
   * Sends one message over SMTP ({@code Subject: queued}, one body line) from {@code sender} (with
   * its angle brackets, {@code <>} for a bounce) to {@code recipients}, asserting every reply, and
   * returns the spool id of the 250 after DATA.
   */
  public String accept(String sender, String... recipients) throws Exception {
    try (SmtpTestClient c = SmtpTestClient.connect(port())) {
      assertReply(220, c.reply());
      assertReply(250, c.command("EHLO client.example"));
      assertReply(250, c.command("MAIL FROM:" + sender));
      for (String r : recipients) {
        assertReply(250, c.command("RCPT TO:<" + r + ">"));
      }
      assertReply(354, c.command("DATA"));
      SmtpTestClient.Reply done = c.command("Subject: queued\r\n\r\nbody\r\n.");
      assertReply(250, done);
      String text = done.text();
      return text.substring(text.indexOf("id=") + 3).strip();
    }
  }

  private static void assertReply(int code, SmtpTestClient.Reply reply) {
    if (reply.code() != code) {
      throw new AssertionError("expected " + code + ", got " + reply);
    }
  }

  /** The bound port of the listener named {@code listener} in postern.yaml. */
  public int port(String listener) {
    Integer p = vertx.sharedData().<String, Integer>getLocalMap(ListenerVerticle.PORTS).get(listener);
    if (p == null) {
      throw new IllegalArgumentException("no listener named " + listener);
    }
    return p;
  }

  public Vertx vertx() {
    return vertx;
  }

  /** Closes every server given that was started (a class's {@code @AfterAll}: some may never have been). */
  public static void closeAll(PosternTestServer... servers) throws Exception {
    for (PosternTestServer s : servers) {
      if (s != null) {
        s.close();
      }
    }
  }

  public Path root() {
    return root;
  }

  public Path confDir() {
    return confDir;
  }

  public Path spoolInput() {
    return root.resolve("spool").resolve("input");
  }

  /** Files in {@code maildir/<user>/new}, oldest first; empty when none. */
  public List<Path> mailbox(String user) throws IOException {
    Path dir = root.resolve("maildir").resolve(user).resolve("new");
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> files = Files.list(dir)) {
      List<Path> out = new ArrayList<>(files.toList());
      out.sort(null);
      return out;
    }
  }

  /** Waits up to {@code millis} for the mailbox to hold {@code count} messages; returns them. */
  public List<Path> awaitMailbox(String user, int count, long millis) throws Exception {
    return Await.value(millis, () -> mailbox(user), files -> files.size() >= count);
  }

  /** Names of the files in the spool's input directory. */
  public List<String> spoolFiles() throws IOException {
    if (!Files.isDirectory(spoolInput())) {
      return List.of();
    }
    try (Stream<Path> files = Files.list(spoolInput())) {
      return files.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  /**
   * Waits up to {@code millis} for the spool's input directory to be empty, then asserts it is. A
   * delivery writes the mailbox before it removes the message from the spool, so once the spool is
   * empty after the last reply of a session, no more mail arrives from it.
   */
  public void awaitSpoolEmpty(long millis) throws Exception {
    List<String> left = Await.value(millis, this::spoolFiles, List::isEmpty);
    if (!left.isEmpty()) {
      throw new AssertionError("spool input directory not empty after " + millis + " ms: " + left);
    }
  }

  @Override
  public void close() throws Exception {
    if (vertx != null) {
      try {
        // Last first, as the daemon stops; a test may have closed this Vert.x itself already.
        VerticleDeployer.undeploy(vertx).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      } catch (java.util.concurrent.ExecutionException | java.util.concurrent.RejectedExecutionException e) {
        // Nothing left to undeploy in order.
      }
      vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
    try (Stream<Path> walk = Files.walk(root)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
