package org.postern.cluster;

import com.hazelcast.config.Config;
import io.vertx.core.Completable;
import io.vertx.core.spi.cluster.RegistrationInfo;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import org.postern.bus.Addresses;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The Hazelcast cluster manager, told which of Postern's addresses never have a consumer on
 * another node. On a clustered event bus every send asks the cluster manager where the address's
 * consumers are, and Vert.x caches only the answers that name some: for the node-local consumers
 * of the hot path (sessions, ACLs, AUTH, enqueue, delivery) each message would cost a Hazelcast
 * lookup on a worker thread. Those addresses are answered here at once, with no consumer elsewhere,
 * and the message goes to the local consumer; only the cluster-wide ones are looked up.
 *
 * <p>The published events ({@code postern.event.*}, one or more per message) usually have no
 * consumer anywhere, and Vert.x does not cache that answer either: their lookups are kept for
 * {@link #EVENT_LOOKUP_MILLIS}, so an observer that subscribes on another node gets the events
 * within that time, and a message costs no Hazelcast lookup.
 */
final class NodeLocalRegistrations extends HazelcastClusterManager {
  /** Postern's addresses with consumers on other nodes (published events and cluster commands). */
  private static final Set<String> CLUSTER_WIDE = Set.of(Addresses.CLUSTER_GENERATION, Addresses.QUEUE_FLUSH,
      Addresses.CONFIG_CHANGED, Addresses.CONFIG_REFUSED);
  private static final List<String> CLUSTER_WIDE_PREFIXES = List.of(Addresses.CLUSTER_QUEUE_PREFIX, "postern.event.");

  /** How long the consumers found for an event address are taken as still true. */
  static final long EVENT_LOOKUP_MILLIS = 1000;

  private final Map<String, Lookup> eventLookups = new ConcurrentHashMap<>();

  private record Lookup(List<RegistrationInfo> registrations, long atNanos) {
  }

  NodeLocalRegistrations(Config config) {
    super(config);
  }

  @Override
  public void getRegistrations(String address, Completable<List<RegistrationInfo>> promise) {
    if (isNodeLocal(address)) {
      promise.succeed(List.of());
      return;
    }
    if (!address.startsWith(Addresses.EVENT_PREFIX)) {
      super.getRegistrations(address, promise);
      return;
    }
    long now = System.nanoTime();
    Lookup known = eventLookups.get(address);
    if (known != null && now - known.atNanos() < EVENT_LOOKUP_MILLIS * 1_000_000) {
      promise.succeed(known.registrations());
      return;
    }
    super.getRegistrations(address, (registrations, failure) -> {
      if (failure == null) {
        eventLookups.put(address, new Lookup(registrations, now));
      }
      promise.complete(registrations, failure);
    });
  }

  /** True for Postern's addresses that only this node's own consumers serve. */
  static boolean isNodeLocal(String address) {
    if (!address.startsWith("postern.") || CLUSTER_WIDE.contains(address)) {
      return false;
    }
    for (String prefix : CLUSTER_WIDE_PREFIXES) {
      if (address.startsWith(prefix)) {
        return false;
      }
    }
    return true;
  }
}
