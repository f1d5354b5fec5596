package org.postern.config;

import io.vertx.core.Vertx;
import io.vertx.core.shareddata.Shareable;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The configuration generation in force on one Vert.x instance. Swapped atomically by
 * {@link ConfigVerticle}; read by every other verticle at the start of a unit of work.
 */
public final class ConfigHolder implements Shareable {
  private static final String MAP = "postern.config";
  /** Generations recent enough that sessions may still run under them. */
  private static final int KEPT = 8;
  private final AtomicReference<PosternConfig> current = new AtomicReference<>();
  private volatile java.time.Instant loadedAt;
  private final Map<String, PosternConfig> recent = new LinkedHashMap<>(16, 0.75f, false) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, PosternConfig> eldest) {
      return size() > KEPT;
    }
  };

  public static ConfigHolder of(Vertx vertx) {
    return (ConfigHolder) vertx.sharedData().<String, Shareable>getLocalMap(MAP)
        .computeIfAbsent("holder", k -> new ConfigHolder());
  }

  /** The current configuration; never null once {@link ConfigVerticle} has started. */
  public PosternConfig current() {
    PosternConfig c = current.get();
    if (c == null) {
      throw new IllegalStateException("no configuration loaded: deploy ConfigVerticle first");
    }
    return c;
  }

  public boolean isLoaded() {
    return current.get() != null;
  }

  public void set(PosternConfig config) {
    synchronized (recent) {
      recent.put(config.generation(), config);
    }
    loadedAt = java.time.Instant.now();
    current.set(config);
  }

  /** When the current configuration was put in force (the admin API's {@code GET /config}); null before. */
  public java.time.Instant loadedAt() {
    return loadedAt;
  }

  /** The named generation if still known, else the current one. */
  public PosternConfig generation(String generation) {
    if (generation != null) {
      synchronized (recent) {
        PosternConfig c = recent.get(generation);
        if (c != null) {
          return c;
        }
      }
    }
    return current();
  }
}
