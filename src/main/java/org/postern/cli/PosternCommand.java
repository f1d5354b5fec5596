package org.postern.cli;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import org.postern.config.ConfigException;
import org.postern.config.ConfigHolder;
import org.postern.config.ConfigLoader;
import org.postern.config.PosternConfig;
import org.postern.listener.ListenerVerticle;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;

/**
 * The {@code postern} command, with Exim's flags: no flag or {@code -bd} runs the daemon,
 * {@code -bs} one SMTP session on stdin/stdout, {@code -bS} batched SMTP, {@code -bV} checks the
 * configuration; {@code -C} names another configuration file.
 */
@Command(name = "postern", mixinStandardHelpOptions = true, version = "Postern 0.1.0",
    subcommands = PasswdCommand.class,
    description = "A reactive SMTP mail server with Exim's options.")
public final class PosternCommand implements Callable<Integer> {
  @Option(names = "-bd", description = "Run as a daemon (the default).")
  boolean daemon;

  @Option(names = "-bs", description = "Run one SMTP session on standard input and output.")
  boolean stdioSession;

  @Option(names = "-bS", description = "Read batched SMTP from standard input; no replies.")
  boolean batch;

  @Option(names = "-bV", description = "Check the configuration, print the version and exit.")
  boolean checkConfig;

  @Option(names = "-bh", paramLabel = "IP",
      description = "Host checking: an SMTP session on stdin/stdout as if from IP, with every ACL decision"
          + " traced on stderr; nothing is delivered or kept.")
  String hostCheck;

  @Option(names = "-oMi", paramLabel = "IP",
      description = "With -bh: the local interface address (and .port) the client connected to.")
  String interfaceAddress;

  @Option(names = "-oMs", paramLabel = "NAME",
      description = "With -bh: the client's host name, as a reverse lookup would have found it ($sender_host_name).")
  String senderHostName;

  @Option(names = "-C", paramLabel = "FILE", description = "Main configuration file (default: ${DEFAULT-VALUE}).")
  Path configFile = Path.of("conf/postern.yaml");

  @Option(names = "--verticles", paramLabel = "FILE",
      description = "Deployment list (default: ${DEFAULT-VALUE}; the built-in list when absent).")
  Path verticles = Path.of("verticles.json");

  public static void main(String[] args) {
    int status = new CommandLine(new PosternCommand()).execute(args);
    if (status != 0 || !runsForever(args)) {
      System.exit(status);
    }
  }

  /** Arguments after which the command ends by itself; anything else leaves the daemon running. */
  private static final java.util.Set<String> ONE_SHOT = java.util.Set.of("-bs", "-bS", "-bV", "-bh", "passwd",
      "-h", "--help", "-V", "--version");

  /**
   * True when the command line runs the daemon, whose threads keep the JVM alive after
   * {@link #call()} returns. Exact words only: {@code --verticles FILE} is a daemon option, not
   * {@code --version}.
   */
  static boolean runsForever(String[] args) {
    for (String a : args) {
      if (ONE_SHOT.contains(a)) {
        return false;
      }
    }
    return true;
  }

  @Override
  public Integer call() throws Exception {
    int modes = (daemon ? 1 : 0) + (stdioSession ? 1 : 0) + (batch ? 1 : 0) + (checkConfig ? 1 : 0)
        + (hostCheck != null ? 1 : 0);
    if (modes > 1) {
      System.err.println("postern: -bd, -bs, -bS, -bh and -bV exclude each other");
      return 2;
    }
    HostAddressArgument client = null;
    HostAddressArgument local = null;
    try {
      if (hostCheck != null) {
        client = HostAddressArgument.parse(hostCheck, 0);
        local = HostAddressArgument.parse(interfaceAddress == null ? "127.0.0.1" : interfaceAddress, 25);
      } else if (interfaceAddress != null || senderHostName != null) {
        System.err.println("postern: -oMi and -oMs go with -bh");
        return 2;
      }
    } catch (IllegalArgumentException e) {
      System.err.println("postern: " + (client == null ? "-bh" : "-oMi") + ": " + e.getMessage());
      return 2;
    }
    if (senderHostName != null && !senderHostName.matches("[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?\\.?")) {
      System.err.println("postern: -oMs: not a host name: \"" + senderHostName + "\"");
      return 2;
    }
    PosternConfig config;
    try {
      config = ConfigLoader.load(configFile);
    } catch (ConfigException e) {
      System.err.println("postern: configuration error: " + e.getMessage());
      return 2;
    }
    if (checkConfig) {
      System.out.println("Postern 0.1.0\nConfiguration file is " + configFile + " (generation "
          + config.generation() + "): OK");
      return 0;
    }
    // Before the first logger exists: logback.xml places the main log here. Host checking leaves
    // the real main log alone.
    System.setProperty("postern.log.dir", hostCheck == null ? config.logDirectory().toString()
        : java.nio.file.Files.createTempDirectory("postern-bh").toString());
    Vertx vertx = Vertx.vertx();
    ConfigHolder.of(vertx).set(config);
    JsonArray list = VerticleDeployer.read(verticles);
    if (stdioSession || batch || hostCheck != null) {
      return runLocal(vertx, config, list);
    }
    return runDaemon(vertx, config, list);
  }

  private int runDaemon(Vertx vertx, PosternConfig config, JsonArray list) throws Exception {
    try {
      await(VerticleDeployer.deploy(vertx, list, configFile, name -> true));
    } catch (Exception e) {
      System.err.println("postern: " + e.getMessage());
      vertx.close();
      return 1;
    }
    var ports = vertx.sharedData().<String, Integer>getLocalMap(ListenerVerticle.PORTS);
    config.listeners().forEach(l -> org.slf4j.LoggerFactory.getLogger(PosternCommand.class)
        .info("listening for SMTP ({}) on {}:{}", l.name(), l.address(), ports.getOrDefault(l.name(), l.port())));
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        vertx.close().toCompletionStage().toCompletableFuture().get();
      } catch (Exception ignored) {
        // Exiting anyway.
      }
    }));
    HangupSignal.install(vertx);
    return 0;
  }

  private int runLocal(Vertx vertx, PosternConfig config, JsonArray list) throws Exception {
    // Host checking keeps nothing: no queue, no transport, no TLS listener state.
    Predicate<String> deployed = hostCheck == null ? name -> !name.equals(ListenerVerticle.class.getName())
        : name -> name.endsWith(".ConfigVerticle") || name.endsWith(".AclVerticle")
            || name.endsWith(".AuthVerticle") || name.endsWith(".SessionVerticle");
    try {
      await(VerticleDeployer.deploy(vertx, local(list), configFile, deployed));
      if (hostCheck != null) {
        LocalSmtp.StdoutWriter out = new LocalSmtp.StdoutWriter();
        HostAddressArgument client = HostAddressArgument.parse(hostCheck, 0);
        HostAddressArgument local = HostAddressArgument.parse(interfaceAddress == null ? "127.0.0.1" : interfaceAddress, 25);
        await(new LocalSmtp(vertx, config).hostCheck(client.address(), client.port(), local.address(), local.port(),
                senderHostName)
            .run(System.in, false, (c, text) -> out.accept(text), c -> { }));
        out.drain();
        return 0;
      }
      if (batch) {
        return await(new BatchSmtp(vertx, config).run(System.in, System.out, System.err));
      }
      LocalSmtp.StdoutWriter out = new LocalSmtp.StdoutWriter();
      await(new LocalSmtp(vertx, config).run(System.in, false, (c, text) -> out.accept(text), c -> { }));
      out.drain();
      return 0;
    } finally {
      vertx.close();
    }
  }

  /** A local run delivers only what it accepted itself: the daemon owns the queue runs. */
  private static JsonArray local(JsonArray list) {
    JsonArray copy = list.copy();
    for (int i = 0; i < copy.size(); i++) {
      var entry = copy.getJsonObject(i);
      if (entry.getString("name").endsWith(".QueueVerticle")) {
        entry.put("config", entry.getJsonObject("config", new io.vertx.core.json.JsonObject()).copy()
            .put("run_at_start", false).put("queue_run_interval_ms", Long.MAX_VALUE / 4));
      }
    }
    return copy;
  }

  private static <T> T await(Future<T> future) throws Exception {
    CompletableFuture<T> f = future.toCompletionStage().toCompletableFuture();
    try {
      return f.get();
    } catch (java.util.concurrent.ExecutionException e) {
      throw e.getCause() instanceof Exception ex ? ex : e;
    }
  }
}
