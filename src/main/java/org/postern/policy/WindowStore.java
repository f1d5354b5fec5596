package org.postern.policy;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.AsyncMap;
import io.vertx.core.shareddata.Shareable;

import java.util.function.BiFunction;

/**
 * Where {@link SlidingWindowMap}'s windows and the {@code ratelimit} markers live: string values
 * with a TTL on every write, updated by compare-and-set. This process's Vert.x local async map
 * unless a cluster {@linkplain #useCluster registered} its own, so an unclustered node keeps
 * today's speed and a clustered one shares the counts; TTLs mean a node that dies leaks nothing.
 */
public interface WindowStore {
  /** The value, or null when absent or expired. */
  Future<String> get(String key);

  /** Stores {@code value} for {@code ttl} ms unless present; yields what was there (null: stored). */
  Future<String> putIfAbsent(String key, String value, long ttl);

  /** Replaces {@code oldValue} by {@code newValue}, with a fresh TTL of {@code ttl} ms; false when the value was not {@code oldValue}. */
  Future<Boolean> replaceIfPresent(String key, String oldValue, String newValue, long ttl);

  /** Stores {@code value} for {@code ttl} ms. */
  Future<Void> put(String key, String value, long ttl);

  /** The store named {@code name}: the cluster's when clustered, else this process's. */
  static WindowStore of(Vertx vertx, String name) {
    Registration r = (Registration) vertx.sharedData().<String, Shareable>getLocalMap(Registration.MAP).get("cluster");
    return r == null ? new Local(vertx, name) : r.stores.apply(vertx, name);
  }

  /** Clustered mode: every store named from now on is the cluster's, made by {@code stores}. */
  static void useCluster(Vertx vertx, BiFunction<Vertx, String, WindowStore> stores) {
    vertx.sharedData().<String, Shareable>getLocalMap(Registration.MAP).put("cluster", new Registration(stores));
  }

  /** The cluster's store factory, kept in a local map of the Vert.x instance. */
  record Registration(BiFunction<Vertx, String, WindowStore> stores) implements Shareable {
    static final String MAP = "postern.window.stores";
  }

  /** Vert.x's local async map: this process only, no serialization. */
  final class Local implements WindowStore {
    private final Vertx vertx;
    private final String name;

    Local(Vertx vertx, String name) {
      this.vertx = vertx;
      this.name = name;
    }

    private Future<AsyncMap<String, String>> map() {
      return vertx.sharedData().getLocalAsyncMap(name);
    }

    @Override
    public Future<String> get(String key) {
      return map().compose(m -> m.get(key));
    }

    @Override
    public Future<String> putIfAbsent(String key, String value, long ttl) {
      return map().compose(m -> m.putIfAbsent(key, value, ttl));
    }

    @Override
    public Future<Boolean> replaceIfPresent(String key, String oldValue, String newValue, long ttl) {
      return map().compose(m -> m.replaceIfPresent(key, oldValue, newValue, ttl));
    }

    @Override
    public Future<Void> put(String key, String value, long ttl) {
      return map().compose(m -> m.put(key, value, ttl));
    }
  }
}
