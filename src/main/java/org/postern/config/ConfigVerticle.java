package org.postern.config;

import io.vertx.config.ConfigRetriever;
import io.vertx.config.ConfigRetrieverOptions;
import io.vertx.config.ConfigStoreOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonObject;
import io.vertx.core.eventbus.DeliveryOptions;
import org.postern.bus.Addresses;
import org.postern.bus.ConfigGeneration;
import org.postern.log.MainLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Loads the configuration and keeps it current: a Vert.x {@link ConfigRetriever} watches the
 * configuration files (and node.yaml); each change is parsed and validated as a whole off the event
 * loop, then swapped in atomically. A refused change is logged with file, line and option, and the
 * previous generation stays in force. Deployment config: {@code {"config_file": "conf/postern.yaml"}}.
 *
 * <p>Clustered, a valid change of a replicated file is first proposed to the cluster
 * ({@link Addresses#CLUSTER_CONFIG_PROPOSE}) and swapped in only when it became the cluster's
 * generation; when another node's change won, that one is adopted instead and the local edit is
 * reported as superseded. Generations from the cluster arrive on {@link Addresses#CONFIG_ADOPT}:
 * validated with this node's node.yaml, written into conf/, then swapped in, or refused.
 */
public final class ConfigVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(ConfigVerticle.class);
  private static final String[] KEYS = {"main", "acl", "passwd", "aliases", "node"};
  /** How long a proposal may wait for the cluster. */
  private static final long PROPOSE_TIMEOUT_MS = 10_000;

  private Path configFile;
  private ConfigRetriever retriever;
  private ConfigHolder holder;
  private boolean checking;
  private Map<Path, String> refusedListFiles;
  /** Parsing and writing configurations, one at a time, apart from every other blocking task. */
  private WorkerExecutor workers;
  /**
   * The generation whose files are in conf/, as this node last read or wrote them: an edit read
   * from disk was made on it, so it is the edit's parent. Read on the config worker just before the
   * files are, and set there after an adopted generation is written, so that a read and an
   * adoption's write are ordered (the adoption swaps before it writes).
   */
  private volatile String onDisk = "";
  private record Read(PosternConfig config, String parent) {
  }

  @Override
  public Future<?> start() {
    configFile = Path.of(config().getString("config_file", "conf/postern.yaml"));
    holder = ConfigHolder.of(vertx);
    workers = vertx.createSharedWorkerExecutor("postern-config", 1);
    List<Path> files = watched();
    ConfigRetrieverOptions options = new ConfigRetrieverOptions()
        .setScanPeriod(config().getLong("scan_period_ms", 1000L))
        .setIncludeDefaultStores(false);
    // Every store optional: a required one that fails makes the retriever log a stack trace at
    // every scan. A missing main or ACL file shows as a missing key instead, refused once in apply().
    for (int i = 0; i < files.size(); i++) {
      options.addStore(new ConfigStoreOptions().setType("file").setFormat("raw").setOptional(true)
          .setConfig(new JsonObject().put("path", files.get(i).toString()).put("raw.key", KEYS[i])));
    }
    retriever = ConfigRetriever.create(vertx, options);
    // The retriever only says that something changed; apply() reads the files itself.
    retriever.listen(change -> apply().onFailure(e -> { }));
    long scanPeriod = config().getLong("scan_period_ms", 1000L);
    vertx.setPeriodic(scanPeriod, scanPeriod, t -> checkListFiles());
    vertx.eventBus().localConsumer(Addresses.CONFIG_RELOAD, msg -> reloadFromDisk()
        .onSuccess(c -> msg.reply(new JsonObject().put("generation", c.generation())))
        .onFailure(e -> msg.fail(500, e.getMessage())));
    vertx.eventBus().<JsonObject>localConsumer(Addresses.CONFIG_ADOPT, msg -> adopt(ConfigGeneration.fromJson(msg.body()))
        .onSuccess(c -> msg.reply(new JsonObject().put("generation", c.generation())))
        .onFailure(e -> msg.fail(400, e.getMessage())));
    if (holder.isLoaded()) {
      onDisk = holder.current().generation();
      // Already loaded by the command line before deployment (it needs the log directory early).
      return Future.succeededFuture();
    }
    return reloadFromDisk();
  }

  @Override
  public Future<?> stop() {
    return retriever == null ? Future.succeededFuture() : Future.succeededFuture().andThen(x -> retriever.close());
  }

  /** The files the retriever watches: the replicated ones, then node.yaml. */
  private List<Path> watched() {
    List<Path> files = new java.util.ArrayList<>(ConfigLoader.files(configFile));
    files.add(ConfigLoader.nodeFile(configFile));
    return files;
  }

  /** Re-reads every file now (SIGHUP, {@code postern.config.reload}). */
  public Future<PosternConfig> reloadFromDisk() {
    return workers.executeBlocking(() -> {
      String parent = onDisk;
      return new Read(ConfigLoader.load(configFile), parent);
    })
        .onFailure(this::refused)
        .compose(read -> holder.isLoaded() && holder.current().generation().equals(read.config().generation())
            ? Future.succeededFuture(install(read.config())) : accept(read.config(), read.parent()));
  }

  /**
   * A valid configuration read here, with replicated files that changed: in force at once, or,
   * clustered, once it is the cluster's generation (else the one that won is adopted). {@code parent}
   * is the generation whose files the edit was read from ({@link #onDisk}), not the one in force
   * now: a generation adopted from the cluster meanwhile must make this edit lose the
   * compare-and-set, or an edit made before it would silently replace it (a lost update).
   */
  private Future<PosternConfig> accept(PosternConfig config, String parent) {
    if (!vertx.isClustered()) {
      onDisk = config.generation();
      return Future.succeededFuture(install(config));
    }
    ConfigGeneration proposal = GenerationFiles.of(config, parent, config.primaryHostname());
    return vertx.eventBus().<JsonObject>request(Addresses.CLUSTER_CONFIG_PROPOSE, proposal.toJson(),
            new DeliveryOptions().setLocalOnly(true).setSendTimeout(PROPOSE_TIMEOUT_MS))
        .recover(e -> {
          ConfigException refusal = new ConfigException(ConfigLoader.display(configFile), 0, null,
              "generation " + config.generation() + " could not be proposed to the cluster: " + e.getMessage());
          refused(refusal);
          return Future.failedFuture(refusal);
        })
        .compose(reply -> {
          ConfigGeneration winner = ConfigGeneration.fromJson(reply.body());
          if (winner.id().equals(config.generation())) {
            onDisk = config.generation();
            return Future.succeededFuture(install(config));
          }
          String superseded = "configuration edit " + config.generation() + " superseded by generation " + winner.id()
              + " from " + winner.origin() + " (the cluster's generation moved first): adopting it";
          LOG.warn(superseded);
          MainLog.write(superseded);
          return adopt(winner);
        });
  }

  /**
   * Puts a generation from the cluster in force: validated with this node's node.yaml, swapped in,
   * then written into conf/ (atomically, so a restart comes up on it); refused, the previous one stays.
   */
  private Future<PosternConfig> adopt(ConfigGeneration generation) {
    if (holder.isLoaded() && holder.current().generation().equals(generation.id())) {
      return Future.succeededFuture(holder.current());
    }
    String nodeSettings = holder.isLoaded() ? holder.current().nodeSettings() : "";
    return workers.executeBlocking(() -> GenerationFiles.parse(configFile, generation, nodeSettings))
        .recover(e -> {
          Throwable refusal = new IllegalStateException("generation " + generation.id() + " from "
              + generation.origin() + " refused: " + e.getMessage(), e);
          refused(refusal);
          return Future.failedFuture(refusal);
        })
        .map(this::install)
        .compose(c -> workers.executeBlocking(() -> {
          // After the swap, so the disk (fsync) never delays it; a restart that finds the old files
          // adopts the cluster's generation again before it serves.
          GenerationFiles.write(configFile, generation);
          onDisk = generation.id();
          return c;
        }).recover(e -> {
          String line = "configuration generation " + generation.id() + " in force but not written into conf/: "
              + e.getMessage();
          LOG.error(line);
          MainLog.write(line);
          return Future.succeededFuture(c);
        }));
  }

  /**
   * List files ({@code /path} items) are not stores of the retriever, since which files there are
   * depends on the configuration itself: they are compared with what the configuration in force
   * read, and any difference (changed, removed, unreadable) reloads everything.
   */
  private void checkListFiles() {
    if (!holder.isLoaded() || checking) {
      return;
    }
    PosternConfig current = holder.current();
    if (current.listFiles().isEmpty()) {
      return;
    }
    checking = true;
    Map<Path, Future<String>> now = new LinkedHashMap<>();
    current.listFiles().keySet().forEach(path -> now.put(path, vertx.fileSystem().readFile(path.toString())
        .map(b -> b.toString(java.nio.charset.StandardCharsets.UTF_8)).otherwise((String) null)));
    Future.all(List.copyOf(now.values())).compose(all -> {
      Map<Path, String> seen = new LinkedHashMap<>();
      now.forEach((path, text) -> seen.put(path, text.result()));
      boolean changed = !seen.equals(current.listFiles());
      // A refused state is reported once, not at every scan: retry only when the files change again.
      if (!changed || seen.equals(refusedListFiles) || holder.current() != current) {
        return Future.<Void>succeededFuture();
      }
      return reloadFromDisk().onFailure(e -> refusedListFiles = seen).<Void>mapEmpty();
    }).onComplete(r -> checking = false);
  }

  /**
   * Runs only when what the files hold changed, so a refusal is logged once per change. The files
   * are read again on the config worker rather than taken from the retriever's scan, which may
   * predate an adopted generation's write: the parent is then the generation they were read from.
   */
  private Future<PosternConfig> apply() {
    List<Path> files = watched();
    return workers.executeBlocking(() -> {
      String parent = onDisk;
      Map<Path, String> texts = new LinkedHashMap<>();
      for (Path file : files) {
        try {
          texts.put(file, java.nio.file.Files.readString(file));
        } catch (java.io.IOException missing) {
          // Absent or unreadable, as the retriever's optional stores show it.
        }
      }
      for (Path required : files.subList(0, 2)) {
        if (!texts.containsKey(required)) {
          throw new ConfigException(ConfigLoader.display(required), 0, null, "file not found");
        }
      }
      return new Read(ConfigLoader.parse(configFile, texts), parent);
    })
        .onFailure(this::refused)
        .compose(read -> {
          PosternConfig c = read.config();
          PosternConfig old = holder.isLoaded() ? holder.current() : null;
          if (old == null || !old.generation().equals(c.generation())) {
            return accept(c, read.parent());
          }
          // Only node.yaml changed: node-local, nothing to tell the cluster.
          return Future.succeededFuture(old.nodeSettings().equals(c.nodeSettings()) ? old : install(c));
        });
  }


  private void refused(Throwable e) {
    LOG.error("configuration refused, previous one stays in force: {}", e.getMessage());
    if (vertx.isClustered()) {
      MainLog.write("configuration refused, generation " + (holder.isLoaded() ? holder.current().generation() : "none")
          + " stays in force: " + e.getMessage());
    }
    vertx.eventBus().publish(Addresses.CONFIG_REFUSED, new JsonObject().put("error", e.getMessage()));
  }

  private PosternConfig install(PosternConfig config) {
    holder.set(config);
    LOG.info("configuration generation {} in force ({})", config.generation(), config.configFile());
    vertx.eventBus().publish(Addresses.CONFIG_CHANGED, new JsonObject().put("generation", config.generation()));
    return config;
  }
}
