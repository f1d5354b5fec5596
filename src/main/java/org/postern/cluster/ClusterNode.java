package org.postern.cluster;

import com.hazelcast.core.HazelcastInstance;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import org.postern.config.ClusterSettings;
import org.postern.metrics.NodeMeters;
import org.postern.policy.WindowStore;

import java.util.List;

/**
 * A clustered Vert.x over Hazelcast, made from the {@code cluster:} section: the daemon's (a full
 * member) or a command-line tool's (a lite member, which holds no data and leaves when done). The
 * event bus listens on the node's host, on a port of the system's choosing.
 */
public final class ClusterNode {
  private final Vertx vertx;
  private final NodeLocalRegistrations manager;

  private ClusterNode(Vertx vertx, NodeLocalRegistrations manager) {
    this.vertx = vertx;
    this.manager = manager;
  }

  /** Joins the cluster (or forms it, when no member answers). */
  public static Future<ClusterNode> join(ClusterSettings settings, boolean tool) {
    NodeLocalRegistrations manager = new NodeLocalRegistrations(HazelcastSettings.of(settings, tool));
    EventBusOptions bus = new EventBusOptions().setHost(settings.host()).setPort(0)
        .setClusterPublicHost(settings.host());
    return NodeMeters.clustered(new VertxOptions().setEventBusOptions(bus), manager)
        .map(v -> new ClusterNode(v, manager));
  }

  public Vertx vertx() {
    return vertx;
  }

  /** This node's Vert.x node id. */
  public String nodeId() {
    return manager.getNodeId();
  }

  /** The Vert.x node ids of the members now in the cluster, this one included. */
  public List<String> liveNodes() {
    return manager.getNodes();
  }

  /** The Hazelcast member under this node: for what Vert.x's cluster API lacks (entry listeners, CAS with TTL). */
  HazelcastInstance hazelcast() {
    return manager.getHazelcastInstance();
  }

  /** From now on the rate-limit and AUTH failure windows of this Vert.x are the cluster's. */
  public void shareWindows() {
    WindowStore.useCluster(vertx, (v, name) -> new HazelcastWindowStore(v, hazelcast(), name));
  }

  /** Leaves the cluster and closes Vert.x. */
  public Future<Void> leave() {
    return vertx.close();
  }
}
