package org.postern.cluster;

import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.AsyncMap;
import org.postern.bus.Addresses;
import org.postern.bus.ConfigGeneration;
import org.postern.bus.NodeStatus;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * What is asked of the whole cluster: by the command line from a lite member ({@link ClusterNode#join}
 * with {@code tool}), {@code --cluster-status} and the queue commands with {@code --cluster}; by a
 * node, ETRN. Every node runs its part on its own spool ({@link Addresses#CLUSTER_QUEUE_PREFIX}).
 */
public final class ClusterCommands {
  /** The request member that asks for a listing instead of a queue run, and the reply's member with it. */
  public static final String LIST = "list";

  private final ClusterNode tool;

  /** @param tool the member that asks: a command-line tool or a daemon */
  public ClusterCommands(ClusterNode tool) {
    this.tool = tool;
  }

  /** The live daemons, by name. */
  public Future<List<NodeStatus>> nodes() {
    List<String> live = tool.liveNodes();
    return this.<String, String>map(ClusterVerticle.NODES_MAP).compose(AsyncMap::values).map(values -> {
      List<NodeStatus> out = new ArrayList<>();
      for (String v : values) {
        NodeStatus s = NodeStatus.fromJson(new JsonObject(v));
        if (live.contains(s.nodeId())) {
          out.add(s);
        }
      }
      out.sort(Comparator.comparing(NodeStatus::name).thenComparing(NodeStatus::address));
      return out;
    });
  }

  /**
   * {@code --cluster-status}: the cluster's current generation, then one line per member: name,
   * address, the generation in force there, and the refusal when it refused the current one.
   */
  public Future<String> status(String clusterName) {
    return this.<String, String>map(ClusterVerticle.CONFIG_MAP).compose(m -> m.get(ClusterVerticle.CURRENT))
        .compose(current -> nodes().map(nodes -> {
          StringBuilder sb = new StringBuilder("cluster ").append(clusterName);
          if (current != null) {
            ConfigGeneration g = ConfigGeneration.fromJson(new JsonObject(current));
            sb.append(": generation ").append(g.id()).append(" (serial ").append(g.serial()).append(", from ")
                .append(g.origin()).append(')');
          }
          sb.append(", ").append(nodes.size()).append(nodes.size() == 1 ? " member\n" : " members\n");
          for (NodeStatus n : nodes) {
            sb.append(n.name()).append(' ').append(n.address()).append(" generation ").append(n.generation());
            if (n.refused() != null) {
              sb.append(" refused: ").append(n.refused());
            }
            sb.append('\n');
          }
          return sb.toString();
        }));
  }

  /**
   * Sends {@code request} to every live node's queue and yields the answers in node order; a node
   * that failed or did not answer within {@code timeoutMs} yields {@code {node, error}}.
   */
  public Future<List<JsonObject>> eachNode(JsonObject request, long timeoutMs) {
    return nodes().compose(nodes -> {
      List<Future<JsonObject>> answers = new ArrayList<>();
      for (NodeStatus n : nodes) {
        answers.add(tool.vertx().eventBus().<JsonObject>request(Addresses.CLUSTER_QUEUE_PREFIX + n.nodeId(), request,
                new DeliveryOptions().setSendTimeout(timeoutMs))
            .map(r -> r.body())
            .otherwise(e -> new JsonObject().put("node", n.name()).put("error", e.getMessage())));
      }
      return Future.join(answers).map(all -> answers.stream().map(Future::result).toList());
    });
  }

  private <K, V> Future<AsyncMap<K, V>> map(String name) {
    return tool.vertx().sharedData().getClusterWideMap(name);
  }
}
