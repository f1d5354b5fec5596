package org.postern.cluster;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.postern.policy.WindowStore;

import java.util.concurrent.TimeUnit;

/**
 * A {@link WindowStore} in a Hazelcast map, shared by the cluster. Vert.x's Hazelcast async map
 * cannot compare-and-set with a TTL, so this one uses the map itself: {@code replace(key, old,
 * new)} then a fresh TTL on the entry (a window nobody touches expires, wherever it was last
 * written). Blocking Hazelcast calls run on a worker; reads and plain writes are asynchronous.
 */
final class HazelcastWindowStore implements WindowStore {
  private final Vertx vertx;
  private final IMap<String, String> map;

  HazelcastWindowStore(Vertx vertx, HazelcastInstance hazelcast, String name) {
    this.vertx = vertx;
    this.map = hazelcast.getMap(name);
  }

  @Override
  public Future<String> get(String key) {
    return Future.fromCompletionStage(map.getAsync(key), vertx.getOrCreateContext());
  }

  @Override
  public Future<String> putIfAbsent(String key, String value, long ttl) {
    return vertx.executeBlocking(() -> map.putIfAbsent(key, value, ttl, TimeUnit.MILLISECONDS), false);
  }

  @Override
  public Future<Boolean> replaceIfPresent(String key, String oldValue, String newValue, long ttl) {
    return vertx.executeBlocking(() -> {
      if (!map.replace(key, oldValue, newValue)) {
        return false;
      }
      map.setTtl(key, ttl, TimeUnit.MILLISECONDS);
      return true;
    }, false);
  }

  @Override
  public Future<Void> put(String key, String value, long ttl) {
    return Future.fromCompletionStage(map.setAsync(key, value, ttl, TimeUnit.MILLISECONDS), vertx.getOrCreateContext());
  }
}
