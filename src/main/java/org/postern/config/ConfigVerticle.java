package org.postern.config;

import io.vertx.config.ConfigRetriever;
import io.vertx.config.ConfigRetrieverOptions;
import io.vertx.config.ConfigStoreOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import org.postern.bus.Addresses;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Loads the configuration and keeps it current: a Vert.x {@link ConfigRetriever} watches the
 * configuration files; each change is parsed and validated as a whole off the event loop, then
 * swapped in atomically. A refused change is logged with file, line and option, and the previous
 * generation stays in force. Deployment config: {@code {"config_file": "conf/postern.yaml"}}.
 */
public final class ConfigVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(ConfigVerticle.class);
  private static final String[] KEYS = {"main", "acl", "passwd", "aliases"};

  private Path configFile;
  private ConfigRetriever retriever;
  private ConfigHolder holder;
  private boolean checking;
  private Map<Path, String> refusedListFiles;

  @Override
  public Future<?> start() {
    configFile = Path.of(config().getString("config_file", "conf/postern.yaml"));
    holder = ConfigHolder.of(vertx);
    List<Path> files = ConfigLoader.files(configFile);
    ConfigRetrieverOptions options = new ConfigRetrieverOptions()
        .setScanPeriod(config().getLong("scan_period_ms", 1000L))
        .setIncludeDefaultStores(false);
    for (int i = 0; i < files.size(); i++) {
      options.addStore(new ConfigStoreOptions().setType("file").setFormat("raw").setOptional(i >= 2)
          .setConfig(new JsonObject().put("path", files.get(i).toString()).put("raw.key", KEYS[i])));
    }
    retriever = ConfigRetriever.create(vertx, options);
    retriever.listen(change -> apply(change.getNewConfiguration()).onFailure(e -> { }));
    long scanPeriod = config().getLong("scan_period_ms", 1000L);
    vertx.setPeriodic(scanPeriod, scanPeriod, t -> checkListFiles());
    vertx.eventBus().consumer(Addresses.CONFIG_RELOAD, msg -> reloadFromDisk()
        .onSuccess(c -> msg.reply(new JsonObject().put("generation", c.generation())))
        .onFailure(e -> msg.fail(500, e.getMessage())));
    if (holder.isLoaded()) {
      // Already loaded by the command line before deployment (it needs the log directory early).
      return Future.succeededFuture();
    }
    return reloadFromDisk();
  }

  @Override
  public Future<?> stop() {
    return retriever == null ? Future.succeededFuture() : Future.succeededFuture().andThen(x -> retriever.close());
  }

  /** Re-reads every file now (SIGHUP, {@code postern.config.reload}). */
  public Future<PosternConfig> reloadFromDisk() {
    return vertx.executeBlocking(() -> ConfigLoader.load(configFile), false)
        .onSuccess(this::install)
        .onFailure(this::refused);
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

  private Future<PosternConfig> apply(JsonObject merged) {
    List<Path> files = ConfigLoader.files(configFile);
    Map<Path, String> texts = new LinkedHashMap<>();
    for (int i = 0; i < files.size(); i++) {
      String text = merged.getString(KEYS[i]);
      if (text != null) {
        texts.put(files.get(i), text);
      }
    }
    return vertx.executeBlocking(() -> ConfigLoader.parse(configFile, texts), false)
        .onSuccess(c -> {
          PosternConfig old = holder.isLoaded() ? holder.current() : null;
          if (old == null || !old.generation().equals(c.generation())) {
            install(c);
          }
        })
        .onFailure(this::refused);
  }

  private void refused(Throwable e) {
    LOG.error("configuration refused, previous one stays in force: {}", e.getMessage());
    vertx.eventBus().publish(Addresses.CONFIG_REFUSED, new JsonObject().put("error", e.getMessage()));
  }

  private void install(PosternConfig config) {
    holder.set(config);
    LOG.info("configuration generation {} in force ({})", config.generation(), config.configFile());
    vertx.eventBus().publish(Addresses.CONFIG_CHANGED, new JsonObject().put("generation", config.generation()));
  }
}
