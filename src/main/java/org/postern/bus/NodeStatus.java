package org.postern.bus;

import io.vertx.core.json.JsonObject;

/**
 * What one cluster node says about itself, kept in the cluster-wide map {@code postern.cluster.nodes}
 * (by Vert.x node id) for {@code postern --cluster-status} and the cluster-wide queue commands.
 * JSON, schema in {@code docs/plugins.md}.
 *
 * @param nodeId     the Vert.x node id (the key; the entry of a node that left is ignored)
 * @param name       the node's {@code primary_hostname}
 * @param address    its Hazelcast member address, {@code host:port}
 * @param generation the configuration generation in force there
 * @param refused    why it refused the cluster's current generation; null when it did not
 */
public record NodeStatus(String nodeId, String name, String address, String generation, String refused)
    implements BusRecord {

  /** The same node after a swap (no refusal) or a refusal (the generation stays). */
  public NodeStatus with(String newGeneration, String newRefusal) {
    return new NodeStatus(nodeId, name, address, newGeneration, newRefusal);
  }

  @Override
  public JsonObject toJson() {
    JsonObject j = new JsonObject().put("node_id", nodeId).put("name", name).put("address", address)
        .put("generation", generation);
    if (refused != null) {
      j.put("refused", refused);
    }
    return j;
  }

  public static NodeStatus fromJson(JsonObject j) {
    return new NodeStatus(j.getString("node_id"), j.getString("name"), j.getString("address"),
        j.getString("generation"), j.getString("refused"));
  }
}
