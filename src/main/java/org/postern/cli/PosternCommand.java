package org.postern.cli;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.postern.bus.Addresses;
import org.postern.bus.QueueFlushReply;
import org.postern.cluster.ClusterCommands;
import org.postern.cluster.ClusterNode;
import org.postern.cluster.ClusterVerticle;
import org.postern.config.ClusterSettings;
import org.postern.config.ConfigException;
import org.postern.config.ConfigHolder;
import org.postern.config.ConfigLoader;
import org.postern.config.PosternConfig;
import org.postern.tls.ClientRenegotiation;
import org.postern.listener.ListenerVerticle;
import org.postern.log.MainLog;
import org.postern.plugins.PluginDeployments;
import org.postern.queue.AddressRouting;
import org.postern.queue.MessageActions;
import org.postern.queue.MessageViews;
import org.postern.metrics.NodeMeters;
import org.postern.queue.QueueListing;
import org.postern.spool.MessageIds;
import org.postern.spool.Spool;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;

/**
 * The {@code postern} command, with Exim's flags: no flag or {@code -bd} runs the daemon,
 * {@code -bs} one SMTP session on stdin/stdout, {@code -bS} batched SMTP, {@code -bV} checks the
 * configuration, {@code -bt} tests how addresses are routed; {@code -bp}/{@code -bpu}/{@code -bpc}
 * list the queue, {@code -Mrm}/{@code -Mf}/{@code -Mt}/{@code -Mg} remove, freeze, thaw and give
 * up messages, {@code -Mvh}/{@code -Mvb}/{@code -Mvc}/{@code -Mvl} show them,
 * {@code -q}/{@code -qf}/{@code -R}/{@code -M} run deliveries in this process (with
 * {@code --cluster}: on every node of the cluster, as {@code -bp --cluster} lists every node's
 * queue), {@code --cluster-status} lists the cluster's members; {@code -C} names another configuration file. A {@code cluster:}
 * section (or {@code --cluster}) makes the daemon join its cluster. Exit status: 0 done, 1 partly done or nothing found, 2 usage or
 * configuration error.
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

  @Option(names = "-bt", description = "Address testing: route each ADDRESS as the queue would deliver it and"
      + " print where it goes (Exim's format); nothing is delivered or written. Exit 2 when one is undeliverable,"
      + " 1 when one cannot be resolved now.")
  boolean addressTest;

  @Option(names = "-bv", description = "Address verification: check each ADDRESS as the rcpt ACL's verify ="
      + " recipient does and print ADDRESS verified or ADDRESS failed to verify: REASON. Exit 2 when one failed.")
  boolean addressVerify;

  @Option(names = "-bP", description = "Print the value in force of the options NAME... (all without names),"
      + " one name = value line each, secrets hidden; config_generation and config_file too.")
  boolean printOptions;

  @Option(names = "-bp", description = "List the queue (Exim's format), read from the spool.")
  boolean listQueue;

  @Option(names = "-bpu", description = "List the queue with only the recipients still to be delivered.")
  boolean listUndelivered;

  @Option(names = "-bpc", description = "Print the number of messages on the queue.")
  boolean countQueue;

  @Option(names = "-Mrm", description = "Remove the messages ID... from the queue, undelivered.")
  boolean removeMessages;

  @Option(names = "-Mf", description = "Freeze the messages ID...: no delivery until thawed.")
  boolean freezeMessages;

  @Option(names = "-Mt", description = "Thaw the messages ID...: delivered again by the next queue run.")
  boolean thawMessages;

  @Option(names = "-Mg", description = "Give up the messages ID..., frozen or not: the pending recipients fail"
      + " (delivery cancelled by administrator) and the sender gets a bounce, left on the queue for the next run;"
      + " a bounce is just removed.")
  boolean giveUpMessages;

  @Option(names = "-Mvh", description = "Print the header section of the messages ID..., as spooled.")
  boolean showHeaders;

  @Option(names = "-Mvb", description = "Print the body of the messages ID..., as spooled.")
  boolean showBodies;

  @Option(names = "-Mvc", description = "Print the whole messages ID..., headers and body, as spooled.")
  boolean showMessages;

  @Option(names = "-Mvl", description = "Print the main-log lines of the messages ID... (Exim prints the"
      + " per-message log, which Postern does not keep).")
  boolean showLogs;

  @Option(names = "-M", description = "Deliver the messages ID... now, in this process; frozen ones are thawed.")
  boolean deliverMessages;

  @Option(names = "-q", description = "Run the queue once in this process, respecting retry times.")
  boolean queueRun;

  @Option(names = "-v", description = "With a queue run (-q, -qf, -qff, -R, -M): print each delivery (=>, ==, **)"
      + " as it happens and the run's summary line (printed anyway when standard output is a terminal).")
  boolean verbose;

  @Option(names = "-qf", description = "Run the queue once in this process, retry times ignored.")
  boolean forcedQueueRun;

  @Option(names = "-qff", description = "As -qf, and frozen messages are thawed and delivered too.")
  boolean thawingQueueRun;

  @Option(names = "-R", paramLabel = "DOMAIN",
      description = "Deliver now, in this process, the messages with recipients in DOMAIN.")
  String domainRun;

  @Option(names = "-bm", description = "Read a message on standard input and deliver it to ADDRESS... (the default"
      + " when addresses are given without a mode): Postern as /usr/sbin/sendmail.")
  boolean submitMessage;

  @Option(names = "-t", description = "With -bm (implied): the recipients are those of the To:, Cc: and Bcc: lines,"
      + " minus ADDRESS...; Bcc: lines are removed.")
  boolean extractRecipients;

  @Option(names = {"-i", "-oi"}, description = "With -bm: a line with a single dot is part of the message.")
  boolean dotIsData;

  @Option(names = {"-f", "-r"}, paramLabel = "ADDRESS", description = "With -bm: the envelope sender (<> for none);"
      + " by default the login name @ primary_hostname.")
  String envelopeSender;

  @Option(names = "-F", paramLabel = "NAME", description = "With -bm: the full name for the From: line added when"
      + " the message has none.")
  String fullName;

  /**
   * What sendmail's callers pass and Postern has no use for: error-reporting modes (errors go to
   * stderr and the exit status), delivery modes (delivery is always in the foreground, {@code -odi}).
   */
  @Option(names = {"-oem", "-oee", "-oep", "-oeq", "-oew", "-odb", "-odf", "-odi", "-om"}, hidden = true)
  boolean[] ignoredSendmailFlags;

  /** {@code -B8BITMIME} (cron passes it): the body type is seen in the content instead. */
  @Option(names = "-B", hidden = true, paramLabel = "TYPE")
  String ignoredBodyType;

  @Option(names = "--cluster", description = "Clustered mode: the daemon joins the cluster of the cluster: section"
      + " (its defaults without one); with -q, -qf, -qff, -R, -M, -bp, -bpu and -bpc, every node of the cluster runs"
      + " its part.")
  boolean cluster;

  @Option(names = "--cluster-status", description = "List the cluster's members, the configuration generation in"
      + " force on each and whether it refused the cluster's current one.")
  boolean clusterStatus;


  @Option(names = "--queue-timeout", paramLabel = "SECONDS", defaultValue = "3600",
      description = "With -q, -qf, -R, -M: how long to wait for the queue's answer (default: ${DEFAULT-VALUE}).")
  long queueTimeoutSeconds;

  @Parameters(paramLabel = "ID", arity = "0..*",
      description = "Message ids, with -Mrm, -Mf, -Mt, -Mg, -Mvh, -Mvb, -Mvc, -Mvl and -M; addresses, with -bt and"
          + " -bm; option names, with -bP.")
  List<String> messageIds = new ArrayList<>();

  @Option(names = "-C", paramLabel = "FILE", description = "Main configuration file (default: $POSTERN_CONFIG,"
      + " else conf/postern.yaml, else /etc/postern/postern.yaml).")
  Path configFile;

  @Option(names = "--verticles", paramLabel = "FILE",
      description = "Deployment list (default: ${DEFAULT-VALUE}; the built-in list when absent).")
  Path verticles = Path.of("verticles.json");

  /** Set once the daemon is up: its threads keep the JVM alive after {@link #call()} returns. */
  private volatile boolean daemonRunning;

  public static void main(String[] args) {
    ClientRenegotiation.refuse();
    PosternCommand command = new PosternCommand();
    int status = new CommandLine(command).execute(args);
    // Every other mode (and --help, passwd, a usage error) ends here, whatever threads it left.
    if (status != 0 || !command.daemonRunning) {
      System.exit(status);
    }
  }

  @Override
  public Integer call() throws Exception {
    int modes = count(daemon, stdioSession, batch, checkConfig, printOptions, hostCheck != null, addressTest,
        addressVerify, listQueue,
        listUndelivered, countQueue, removeMessages, freezeMessages, thawMessages, giveUpMessages, showHeaders,
        showBodies, showMessages, showLogs, deliverMessages, queueRun, forcedQueueRun, thawingQueueRun,
        domainRun != null, submitMessage || extractRecipients, clusterStatus);
    // sendmail's own way: "postern user@example.org < message" submits a message.
    submitMessage |= extractRecipients || modes == 0 && !messageIds.isEmpty();
    if (modes > 1) {
      System.err.println("postern: " + MODES + " exclude each other");
      return 2;
    }
    String usage = argumentProblem();
    if (usage != null) {
      System.err.println("postern: " + usage);
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
    configFile = ConfigLocation.resolve(configFile, System.getenv("POSTERN_CONFIG"), Path.of(""), ConfigLocation.SYSTEM);
    PosternConfig config;
    try {
      config = ConfigLoader.load(configFile);
    } catch (ConfigException e) {
      System.err.println("postern: configuration error: " + e.getMessage());
      return 2;
    }
    if (printOptions) {
      return new OptionPrinter(ConfigLoader.effectiveOptions(configFile), config.generation(), configFile.toString())
          .print(messageIds, System.out, System.err);
    }
    if (config.localhostNumber() != null) {
      MessageIds.useLocalhostNumber(config.localhostNumber());
    }
    if (checkConfig) {
      for (String warning : org.postern.auth.PasswdSchemeAudit.warnings(config)) {
        System.err.println("postern: warning: " + warning);
      }
      VersionReport.lines(config, configFile).forEach(System.out::println);
      return 0;
    }
    // Before the first logger exists: logback.xml places the main log here. Host checking and
    // address testing leave the real main log alone.
    Path logDirectory = hostCheck == null && !addressTest ? config.logDirectory()
        : java.nio.file.Files.createTempDirectory(hostCheck != null ? "postern-bh" : "postern-bt");
    System.setProperty("postern.log.dir", logDirectory.toString());
    if (addressTest) {
      return testAddresses(config, logDirectory);
    }
    boolean queueMode = queueMode();
    if (clusterStatus || cluster && (queueMode || listQueue || listUndelivered || countQueue)) {
      return clusterCommand(config);
    }
    if (submitMessage) {
      return submit(config);
    }
    if (addressVerify) {
      return AddressTest.verify(config, System.out, messageIds);
    }
    if (listQueue || listUndelivered || countQueue || takesIdsOnly()) {
      return administer(config);
    }
    if (isDaemon() && (cluster || config.cluster() != null)) {
      return runClusterDaemon(config);
    }
    // Only the daemon serves /metrics: a queue run or a local session has no one to scrape it.
    Vertx vertx = isDaemon() ? NodeMeters.vertx(NativeTransport.options()) : Vertx.vertx(NativeTransport.options());
    ConfigHolder.of(vertx).set(config);
    JsonArray list = VerticleDeployer.read(verticles);
    if (queueMode) {
      return runQueue(vertx, config, list);
    }
    if (stdioSession || batch || hostCheck != null) {
      return runLocal(vertx, config, list);
    }
    return runDaemon(vertx, config, list);
  }

  private static int count(boolean... flags) {
    int n = 0;
    for (boolean f : flags) {
      n += f ? 1 : 0;
    }
    return n;
  }

  /** Why the arguments of the queue modes (ids, domain, timeout), -bt or -bP are wrong, or null when they are not. */
  private String argumentProblem() {
    if (submitMessage || printOptions) {
      return null;
    }
    if (dotIsData || envelopeSender != null || fullName != null) {
      return "-i, -f and -F go with -bm or -t";
    }
    if (addressTest || addressVerify) {
      return messageIds.isEmpty() ? ADDRESS_TEST_USAGE : null;
    }
    if (cluster && (takesIdsOnly() || stdioSession || batch || hostCheck != null || addressTest || addressVerify
        || checkConfig || submitMessage)) {
      return "--cluster goes with the daemon, -q, -qf, -qff, -R, -M, -bp, -bpu and -bpc";
    }
    if (queueTimeoutSeconds <= 0) {
      return "--queue-timeout: must be at least 1 second";
    }
    if (domainRun != null && !domainRun.matches("[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?")) {
      return "-R: not a domain: \"" + domainRun + "\"";
    }
    if (!takesIdsOnly() && !deliverMessages) {
      return messageIds.isEmpty() ? null : "unexpected argument: " + messageIds.get(0);
    }
    if (messageIds.isEmpty()) {
      return "-Mrm, -Mf, -Mt, -Mg, -Mvh, -Mvb, -Mvc, -Mvl and -M need at least one message id";
    }
    for (String id : messageIds) {
      if (!MessageIds.isValid(id)) {
        return "not a message id: " + id;
      }
    }
    return null;
  }

  /** The modes whose arguments are message ids and that work on the spool in this process, without Vert.x. */
  private boolean takesIdsOnly() {
    return removeMessages || freezeMessages || thawMessages || giveUpMessages || showHeaders || showBodies
        || showMessages || showLogs;
  }

  /** The modes that work on the spool directly, without Vert.x: listings, message views and actions. */
  private int administer(PosternConfig config) throws Exception {
    Spool spool = new Spool(config.spoolDirectory());
    try {
      if (listQueue || listUndelivered || countQueue) {
        return new QueueList(spool).print(listQueue ? QueueListing.Kind.ALL
            : listUndelivered ? QueueListing.Kind.UNDELIVERED : QueueListing.Kind.COUNT, System.out);
      }
      if (showHeaders || showBodies || showMessages || showLogs) {
        MessageViews.View view = showHeaders ? MessageViews.View.DSN_AND_HEADERS : showBodies ? MessageViews.View.BODY
            : showMessages ? MessageViews.View.WHOLE : MessageViews.View.LOG;
        return new MessageViews(spool, config.logDirectory().resolve(MainLog.FILE_NAME), System.out, System.err)
            .show(view, messageIds);
      }
      MessageActions.Action action = removeMessages ? MessageActions.Action.REMOVE
          : freezeMessages ? MessageActions.Action.FREEZE
          : thawMessages ? MessageActions.Action.THAW : MessageActions.Action.GIVE_UP;
      return new MessageActionCommand(MessageActions.asProcessUser(spool, config.primaryHostname()),
          System.out, System.err).apply(action, messageIds);
    } finally {
      MainLog.close();
    }
  }

  /**
   * {@code -q}, {@code -qf}, {@code -R}, {@code -M}: Exim's model, a queue runner in this process.
   * The queue and the transports are deployed here (no listener, no sessions) and asked over the
   * local bus; {@link org.postern.spool.MessageLock}, taken by the queue around each delivery, keeps
   * this run and a daemon's off each other's messages.
   */
  private int runQueue(Vertx vertx, PosternConfig config, JsonArray list) throws Exception {
    int status = 0;
    List<String> ids = new ArrayList<>();
    Spool spool = new Spool(config.spoolDirectory());
    for (String id : messageIds) {
      if (spool.exists(id)) {
        ids.add(id);
      } else {
        System.err.println("postern: message " + id + ": no such message");
        status = 1;
      }
    }
    if (deliverMessages && ids.isEmpty()) {
      await(vertx.close());
      MainLog.close();
      return status;
    }
    QueueRunRequest request = deliverMessages ? QueueRunRequest.messages(ids)
        : domainRun != null ? QueueRunRequest.domain(domainRun)
        : QueueRunRequest.queue(forcedQueueRun || thawingQueueRun, thawingQueueRun);
    try {
      await(VerticleDeployer.deploy(vertx, local(list), configFile, name -> !QUEUE_RUN_EXCLUDED.contains(name),
          Map.of(), plugins(vertx, config)));
      if (verbose) {
        QueueRunReport.echo(vertx, System.out);
      }
      try {
        QueueFlushReply reply = await(request.send(vertx, queueTimeoutSeconds * 1000));
        if (QueueRunReport.wanted(verbose)) {
          System.out.println(QueueRunReport.summary(reply));
        }
      } catch (io.vertx.core.eventbus.ReplyException e) {
        System.err.println("postern: " + switch (e.failureType()) {
          case NO_HANDLERS -> "queue runner did not answer: nothing consumes " + Addresses.QUEUE_FLUSH;
          case TIMEOUT -> "queue runner did not answer within " + queueTimeoutSeconds + " s";
          default -> "queue run failed: " + e.getMessage();
        });
        return 1;
      }
      return status;
    } catch (IllegalStateException e) {
      System.err.println("postern: " + e.getMessage());
      return 1;
    } finally {
      await(vertx.close());
      MainLog.close();
    }
  }

  /**
   * {@code -bt}: routing only, so a bare Vert.x for the DNS lookups; no verticle, spool or log.
   * {@code logDirectory} holds the empty main log that logging set up; it goes with the run.
   */
  private int testAddresses(PosternConfig config, Path logDirectory) throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      return await(new AddressTest(new AddressRouting(vertx), config, System.out).run(messageIds));
    } finally {
      await(vertx.close());
      MainLog.close();
      try (var files = java.nio.file.Files.walk(logDirectory)) {
        for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
          java.nio.file.Files.deleteIfExists(p);
        }
      }
    }
  }

  private int runDaemon(Vertx vertx, PosternConfig config, JsonArray list) throws Exception {
    PluginDeployments plugins = plugins(vertx, config);
    try {
      await(VerticleDeployer.deploy(vertx, list, configFile, name -> true, Map.of(), plugins));
    } catch (Exception e) {
      System.err.println("postern: " + e.getMessage());
      vertx.close();
      return 1;
    }
    NativeTransport.log(vertx);
    var ports = vertx.sharedData().<String, Integer>getLocalMap(ListenerVerticle.PORTS);
    config.listeners().forEach(l -> org.slf4j.LoggerFactory.getLogger(PosternCommand.class)
        .info("listening for SMTP ({}) on {}:{}", l.name(), l.address(), ports.getOrDefault(l.name(), l.port())));
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        // The listeners go first (their sessions' notquit ACLs may still ask plugins), the plugins last.
        VerticleDeployer.undeploy(vertx).compose(v -> plugins.close()).eventually(vertx::close)
            .toCompletionStage().toCompletableFuture().get();
      } catch (Exception ignored) {
        // Exiting anyway.
      }
    }));
    HangupSignal.install(vertx);
    DaemonLogs.install(vertx);
    // Edits of verticles.json and jars dropped into plugin_directory take effect live.
    plugins.watch(verticles, PLUGIN_SCAN_MILLIS);
    daemonRunning = true;
    return 0;
  }

  private int runLocal(Vertx vertx, PosternConfig config, JsonArray list) throws Exception {
    // Host checking keeps nothing: no queue, no transport, no TLS listener state.
    Predicate<String> deployed = hostCheck == null
        ? PosternCommand::opensNoPort
        : name -> name.endsWith(".ConfigVerticle") || name.endsWith(".AclVerticle")
            || name.endsWith(".AuthVerticle") || name.endsWith(".SessionVerticle");
    try {
      await(VerticleDeployer.deploy(vertx, local(list), configFile, deployed, Map.of(), plugins(vertx, config)));
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

  /** How often the daemon looks at verticles.json and plugin_directory for changes. */
  private static final long PLUGIN_SCAN_MILLIS = 1000;

  /** The plugins of {@code plugin_directory}, deployed by every mode that starts verticles. */
  private PluginDeployments plugins(Vertx vertx, PosternConfig config) throws java.io.IOException {
    return new PluginDeployments(vertx, config.pluginDirectory(), configFile);
  }

  /** {@code -q}, {@code -qf}, {@code -qff}, {@code -R}, {@code -M}: a delivery run. */
  private boolean queueMode() {
    return deliverMessages || queueRun || forcedQueueRun || thawingQueueRun || domainRun != null;
  }

  /** True when the command line runs the daemon: no other mode given. */
  private boolean isDaemon() {
    return !(stdioSession || batch || hostCheck != null || checkConfig || addressTest || addressVerify || submitMessage
        || queueMode());
  }

  /** The cluster: section, or its defaults when only --cluster asks for clustered mode. */
  private static ClusterSettings clusterSettings(PosternConfig config) {
    return config.cluster() != null ? config.cluster() : ClusterSettings.DEFAULT;
  }

  /**
   * The daemon in clustered mode: Vert.x joins the cluster (Hazelcast), the rate-limit and AUTH
   * windows become the cluster's, and {@link ClusterVerticle} starts before every other verticle, so
   * that the node adopts the cluster's configuration generation (and claims its localhost_number,
   * without which it does not start) before anything serves.
   */
  private int runClusterDaemon(PosternConfig config) throws Exception {
    if (config.localhostNumber() == null) {
      System.err.println("postern: configuration error: " + ConfigLoader.NODE_FILE + ": localhost_number: clustered"
          + " mode needs a number from 0 to " + MessageIds.MAX_LOCALHOST_NUMBER + ", different on every node: it keeps"
          + " message ids unique across the cluster");
      return 2;
    }
    ClusterNode node = joinCluster(config, false);
    if (node == null) {
      return 1;
    }
    Vertx vertx = node.vertx();
    ConfigHolder.of(vertx).set(config);
    node.shareWindows();
    try {
      await(vertx.deployVerticle(new ClusterVerticle(node, clusterSettings(config), configFile)));
    } catch (Exception e) {
      System.err.println("postern: " + e.getMessage());
      await(node.leave());
      return 1;
    }
    return runDaemon(vertx, ConfigHolder.of(vertx).current(), VerticleDeployer.read(verticles));
  }

  /**
   * {@code --cluster-status}, and the queue commands with {@code --cluster}: this process joins the
   * cluster as a lite member (it holds no data), asks every node, prints, and leaves.
   */
  private int clusterCommand(PosternConfig config) throws Exception {
    ClusterNode tool = joinCluster(config, true);
    if (tool == null) {
      return 1;
    }
    try {
      ClusterCommands commands = new ClusterCommands(tool);
      if (clusterStatus) {
        System.out.print(await(commands.status(clusterSettings(config).name())));
        return 0;
      }
      JsonObject request;
      if (listQueue || listUndelivered || countQueue) {
        request = new JsonObject().put(ClusterCommands.LIST, (listQueue ? QueueListing.Kind.ALL
            : listUndelivered ? QueueListing.Kind.UNDELIVERED : QueueListing.Kind.COUNT).name());
      } else {
        request = (deliverMessages ? QueueRunRequest.messages(messageIds) : domainRun != null
            ? QueueRunRequest.domain(domainRun)
            : QueueRunRequest.queue(forcedQueueRun || thawingQueueRun, thawingQueueRun)).request().toJson();
      }
      int status = 0;
      QueueFlushReply total = new QueueFlushReply(0);
      for (JsonObject answer : await(commands.eachNode(request, queueTimeoutSeconds * 1000))) {
        String node = answer.getString("node");
        if (answer.containsKey("error")) {
          System.err.println("postern: node " + node + ": " + answer.getString("error"));
          status = 1;
        } else if (answer.containsKey(ClusterCommands.LIST)) {
          System.out.print("node " + node + ":\n" + answer.getString(ClusterCommands.LIST));
        } else {
          System.out.println("node " + node + ": " + answer.getInteger("started", 0) + " started");
          total = total.plus(QueueFlushReply.fromJson(answer));
        }
      }
      if (queueMode() && QueueRunReport.wanted(verbose)) {
        System.out.println(QueueRunReport.summary(total));
      }
      return status;
    } finally {
      await(tool.leave());
      MainLog.close();
    }
  }

  /** Joins the cluster as a daemon or as a tool ({@link ClusterNode#join}); null, said on stderr, when it cannot. */
  private static ClusterNode joinCluster(PosternConfig config, boolean tool) {
    try {
      return await(ClusterNode.join(clusterSettings(config), tool));
    } catch (Exception e) {
      System.err.println("postern: cannot join cluster " + clusterSettings(config).name() + ": " + e.getMessage());
      return null;
    }
  }

  /** {@code -bm} / {@code -t}: one message from standard input, delivered in this process. */
  private int submit(PosternConfig config) throws Exception {
    byte[] input = System.in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, config.messageSizeLimit() + 1));
    if (input.length > config.messageSizeLimit()) {
      System.err.println("postern: message larger than message_size_limit (" + config.messageSizeLimit() + " bytes)");
      return SendmailSubmission.EX_DATAERR;
    }
    SendmailMessage message;
    try {
      message = SendmailMessage.of(input, new SendmailMessage.Options(extractRecipients, !dotIsData, envelopeSender,
          fullName, messageIds, System.getProperty("user.name"), config.primaryHostname()));
    } catch (IllegalArgumentException e) {
      System.err.println("postern: " + e.getMessage());
      return SendmailSubmission.EX_USAGE;
    }
    Vertx vertx = Vertx.vertx();
    ConfigHolder.of(vertx).set(config);
    try {
      await(VerticleDeployer.deploy(vertx, local(VerticleDeployer.read(verticles)), configFile,
          PosternCommand::opensNoPort, Map.of(), plugins(vertx, config)));
      return await(new SendmailSubmission(vertx, config, message, System.err).run());
    } finally {
      vertx.close();
    }
  }

  /** The modes of which at most one may be given, as the usage error names them. */
  private static final String MODES = "-bd, -bs, -bS, -bh, -bt, -bV, -bP, -bp, -bpu, -bpc, -Mrm, -Mf, -Mt, -Mg, -Mvh, -Mvb,"
      + " -Mvc, -Mvl, -M, -q, -qf, -qff, -R, -bv, -bm/-t and --cluster-status";

  /** Exim reads the addresses from stdin when there are none; Postern wants them on the command line. */
  private static final String ADDRESS_TEST_USAGE = "-bt and -bv need at least one address";

  /**
   * The daemon's admin listener: never in a command that runs beside a daemon ({@code -bs}, {@code -q}),
   * whose port it would take. By name, since nothing imports the admin package.
   */
  private static final String ADMIN_VERTICLE = "org.postern.admin.AdminVerticle";

  /** A local run ({@code -bs}, {@code -bS}, sendmail) beside a daemon: neither the SMTP nor the admin listener. */
  private static boolean opensNoPort(String verticle) {
    return !verticle.equals(ListenerVerticle.class.getName()) && !verticle.equals(ADMIN_VERTICLE);
  }

  /** What a queue run in this process leaves out: it receives no mail. */
  private static final java.util.Set<String> QUEUE_RUN_EXCLUDED = java.util.Set.of(
      ListenerVerticle.class.getName(), ADMIN_VERTICLE, "org.postern.listener.TlsVerticle", "org.postern.session.SessionVerticle",
      "org.postern.acl.AclVerticle", "org.postern.auth.AuthVerticle");

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
