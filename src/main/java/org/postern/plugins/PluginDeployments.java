package org.postern.plugins;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.postern.bus.Addresses;
import org.postern.log.MainLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The plugin verticles of {@code verticles.json}, deployed from the jars of {@code plugin_directory}
 * (each jar in a class loader of its own, {@link PluginJar}) or from Postern's class path (the bundled
 * plugins, {@code org.postern.plugins.*}), and kept in step with the list and the jars: an entry
 * added is deployed, one removed is undeployed, one whose entry or jar changed is redeployed. The
 * core verticles (Postern's own, deployed once by the command line) are never touched here, so
 * sessions go on while plugins come and go. A plugin that fails to start is logged with its name in
 * the main log and left out: it never takes the server down.
 *
 * <p>Every change is one step of a serial chain: two changes never interleave. The file work
 * (listing, copying and opening jars) runs on worker threads.
 */
public final class PluginDeployments {
  private static final Logger LOG = LoggerFactory.getLogger(PluginDeployments.class);
  /** Postern's own verticles: everything in {@code org.postern} but the bundled plugins. */
  private static final String CORE_PREFIX = "org.postern.";
  private static final String BUNDLED_PREFIX = "org.postern.plugins.";
  private static final String CLASS_PATH = "class path";

  private final Vertx vertx;
  private final Path directory;
  private final Path configFile;
  private final Path work;
  /** The jars of the directory as last read, by file name. */
  private final Map<String, PluginJar> jars = new HashMap<>();
  /** What runs, by entry key ({@link #keys}). */
  private final Map<String, Running> running = new LinkedHashMap<>();
  private Future<Void> last = Future.succeededFuture();
  private long timer = -1;
  private String watched;

  /** A plugin entry and what became of it: its deployment id, or null when it failed to start. */
  private record Running(DeploymentEntry entry, PluginJar jar, String deploymentId) {
    String origin() {
      return jar == null ? CLASS_PATH : jar.source().getFileName().toString();
    }
  }

  /**
   * @param directory  {@code plugin_directory}; need not exist (then only bundled plugins can run)
   * @param configFile the main configuration file, passed to every verticle as {@code config_file}
   */
  public PluginDeployments(Vertx vertx, Path directory, Path configFile) throws IOException {
    this.vertx = vertx;
    this.directory = directory;
    this.configFile = configFile;
    this.work = Files.createTempDirectory("postern-plugins");
    work.toFile().deleteOnExit();
  }

  /** True when a {@code verticles.json} entry names a plugin rather than one of Postern's core verticles. */
  public static boolean isPlugin(String className) {
    return className != null && (!className.startsWith(CORE_PREFIX) || className.startsWith(BUNDLED_PREFIX));
  }

  /** The plugin entries of a {@code verticles.json} list, in order. */
  public static List<DeploymentEntry> plugins(JsonArray verticles) {
    List<DeploymentEntry> out = new ArrayList<>();
    for (int i = 0; i < verticles.size(); i++) {
      DeploymentEntry e = DeploymentEntry.fromJson(verticles.getJsonObject(i));
      if (isPlugin(e.name())) {
        out.add(e);
      }
    }
    return out;
  }

  /**
   * Brings the running plugins in line with {@code entries}: deploys, undeploys and redeploys what
   * changed, re-reading the jars first. Never fails; what did not start is logged and published.
   */
  public synchronized Future<Void> apply(List<DeploymentEntry> entries) {
    List<DeploymentEntry> wanted = List.copyOf(entries);
    last = last.transform(ignored -> vertx.<Map<String, PluginJar>>executeBlocking(this::readJars, false)
        .compose(opened -> reconcile(wanted, opened))
        .recover(e -> {
          LOG.error("plugins not updated: {}", e.toString(), e);
          return Future.succeededFuture();
        }));
    return last;
  }

  /**
   * Watches {@code verticlesFile} and the plugin directory every {@code intervalMillis}: a change of
   * either applies the new list. A list that is not valid JSON is refused (logged) and the running
   * plugins stay.
   */
  public synchronized void watch(Path verticlesFile, long intervalMillis) {
    watched = fingerprint(verticlesFile);
    timer = vertx.setPeriodic(intervalMillis, t -> vertx.<String>executeBlocking(() -> fingerprint(verticlesFile), false)
        .onSuccess(now -> {
          if (!now.equals(watched)) {
            watched = now;
            reread(verticlesFile);
          }
        }));
  }

  private void reread(Path verticlesFile) {
    vertx.<JsonArray>executeBlocking(() -> new JsonObject(Files.readString(verticlesFile)).getJsonArray("verticles"),
            false)
        .onSuccess(list -> apply(plugins(list == null ? new JsonArray() : list)))
        .onFailure(e -> MainLog.write("plugins: " + verticlesFile + " refused, the running plugins stay: "
            + e.getMessage()));
  }

  /** The state of the list and the jars, cheap to compare: a change of either changes it (blocking). */
  private String fingerprint(Path verticlesFile) {
    StringBuilder b = new StringBuilder();
    try {
      b.append(Files.exists(verticlesFile) ? Files.readString(verticlesFile).hashCode() : 0);
      for (Path jar : jarFiles()) {
        b.append('|').append(jar.getFileName()).append('=').append(PluginJar.versionOf(jar));
      }
    } catch (IOException e) {
      b.append("unreadable: ").append(e.getMessage());
    }
    return b.toString();
  }

  private List<Path> jarFiles() throws IOException {
    if (!Files.isDirectory(directory)) {
      return List.of();
    }
    try (var files = Files.list(directory)) {
      return files.filter(p -> p.getFileName().toString().endsWith(".jar") && Files.isRegularFile(p)).sorted().toList();
    }
  }

  /**
   * The jars as they are now, by file name: the open version when unchanged, else a new one.
   * A jar that cannot be opened (still being written) keeps its old version, if any, until the next look.
   */
  private Map<String, PluginJar> readJars() throws IOException {
    Map<String, PluginJar> now = new HashMap<>();
    for (Path jar : jarFiles()) {
      String name = jar.getFileName().toString();
      String version = PluginJar.versionOf(jar);
      PluginJar old = jars.get(name);
      if (old != null && old.version().equals(version)) {
        now.put(name, old);
        continue;
      }
      try {
        now.put(name, PluginJar.open(jar, version, work));
      } catch (IOException e) {
        LOG.warn("plugin jar {} not readable now ({}); trying again at the next change", jar, e.toString());
        if (old != null) {
          now.put(name, old);
        }
      }
    }
    return now;
  }

  private Future<Void> reconcile(List<DeploymentEntry> wanted, Map<String, PluginJar> opened) {
    Map<String, DeploymentEntry> byKey = keys(wanted);
    List<String> deployed = new ArrayList<>();
    List<String> undeployed = new ArrayList<>();
    List<String> failed = new ArrayList<>();
    Future<Void> chain = Future.succeededFuture();
    // Undeploy what is gone or changed, then deploy what is new or changed, in list order.
    for (Map.Entry<String, Running> r : List.copyOf(running.entrySet())) {
      DeploymentEntry want = byKey.get(r.getKey());
      if (want == null || !want.equals(r.getValue().entry()) || jarOf(want.name(), opened) != r.getValue().jar()) {
        chain = chain.compose(v -> stop(r.getKey(), r.getValue(), undeployed));
      }
    }
    for (Map.Entry<String, DeploymentEntry> w : byKey.entrySet()) {
      chain = chain.compose(v -> running.containsKey(w.getKey()) ? Future.succeededFuture()
          : start(w.getKey(), w.getValue(), jarOf(w.getValue().name(), opened), deployed, failed));
    }
    return chain.compose(v -> {
      List<PluginJar> unused = jars.values().stream()
          .filter(j -> !opened.containsValue(j) && running.values().stream().noneMatch(r -> r.jar() == j)).toList();
      jars.clear();
      jars.putAll(opened);
      if (!deployed.isEmpty() || !undeployed.isEmpty() || !failed.isEmpty()) {
        vertx.eventBus().publish(Addresses.PLUGINS_CHANGED, new JsonObject().put("deployed", new JsonArray(deployed))
            .put("undeployed", new JsonArray(undeployed)).put("failed", new JsonArray(failed)));
      }
      return vertx.executeBlocking(() -> {
        for (PluginJar j : unused) {
          j.close();
        }
        return null;
      }, false).mapEmpty();
    });
  }

  /** The jar that holds the class, or null for the class path; the first jar by name wins. */
  private static PluginJar jarOf(String className, Map<String, PluginJar> opened) {
    return opened.entrySet().stream().sorted(Map.Entry.comparingByKey()).map(Map.Entry::getValue)
        .filter(j -> j.holds(className)).findFirst().orElse(null);
  }

  /** Entries by key: the class name, with {@code #2}, {@code #3} for its later entries. */
  private static Map<String, DeploymentEntry> keys(List<DeploymentEntry> entries) {
    Map<String, DeploymentEntry> byKey = new LinkedHashMap<>();
    Map<String, Integer> seen = new HashMap<>();
    for (DeploymentEntry e : entries) {
      int n = seen.merge(e.name(), 1, Integer::sum);
      byKey.put(n == 1 ? e.name() : e.name() + "#" + n, e);
    }
    return byKey;
  }

  private Future<Void> start(String key, DeploymentEntry entry, PluginJar jar, List<String> deployed,
                             List<String> failed) {
    DeploymentOptions options;
    try {
      options = entry.options(vertx, configFile);
    } catch (RuntimeException e) {
      return failed(key, entry, jar, "bad entry: " + e, failed);
    }
    if (jar != null) {
      options.setClassLoader(jar.loader());
    }
    String origin = jar == null ? CLASS_PATH : jar.source().getFileName().toString();
    return vertx.deployVerticle(entry.name(), options).transform(ar -> {
      if (ar.failed()) {
        return failed(key, entry, jar, describe(ar.cause()), failed);
      }
      running.put(key, new Running(entry, jar, ar.result()));
      deployed.add(entry.name());
      MainLog.write("plugin " + entry.name() + " (" + origin + ") deployed");
      return Future.succeededFuture();
    });
  }

  private Future<Void> failed(String key, DeploymentEntry entry, PluginJar jar, String why, List<String> failed) {
    running.put(key, new Running(entry, jar, null));
    failed.add(entry.name());
    String origin = jar == null ? CLASS_PATH : jar.source().getFileName().toString();
    MainLog.write("plugin " + entry.name() + " (" + origin + ") failed to start: " + why);
    LOG.warn("plugin {} ({}) failed to start: {}", entry.name(), origin, why);
    return Future.succeededFuture();
  }

  private static String describe(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String what = root.getClass().getSimpleName() + (root.getMessage() == null ? "" : ": " + root.getMessage());
    return root == e ? what : Objects.toString(e.getMessage(), "") + " (" + what + ")";
  }

  private Future<Void> stop(String key, Running r, List<String> undeployed) {
    running.remove(key);
    if (r.deploymentId() == null) {
      return Future.succeededFuture();
    }
    return vertx.undeploy(r.deploymentId()).transform(ar -> {
      undeployed.add(r.entry().name());
      MainLog.write("plugin " + r.entry().name() + " (" + r.origin() + ") undeployed"
          + (ar.failed() ? " (its stop failed: " + ar.cause().getMessage() + ")" : ""));
      return Future.succeededFuture();
    });
  }

  /** Stops watching, undeploys every plugin, last first, and closes the jars. */
  public synchronized Future<Void> close() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    last = last.transform(ignored -> {
      List<Map.Entry<String, Running>> all = new ArrayList<>(running.entrySet());
      java.util.Collections.reverse(all);
      Future<Void> chain = Future.succeededFuture();
      List<String> undeployed = new ArrayList<>();
      for (Map.Entry<String, Running> r : all) {
        chain = chain.compose(v -> stop(r.getKey(), r.getValue(), undeployed));
      }
      return chain.compose(v -> vertx.executeBlocking(() -> {
        for (PluginJar j : jars.values()) {
          j.close();
        }
        jars.clear();
        Files.deleteIfExists(work);
        return null;
      }, false)).mapEmpty();
    });
    return last;
  }
}
