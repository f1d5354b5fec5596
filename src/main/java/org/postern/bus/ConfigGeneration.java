package org.postern.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * One configuration generation of a cluster: every replicated file with its SHA-256, and one
 * overall id (the hash operators see in the log and in {@code -bP config_generation}). Published
 * cluster-wide on {@link Addresses#CLUSTER_GENERATION} when a node's change won, kept as the
 * cluster's current generation, and asked for locally on {@link Addresses#CLUSTER_CONFIG_PROPOSE}
 * and {@link Addresses#CONFIG_ADOPT}. JSON, schema in {@code docs/plugins.md}.
 *
 * @param id     the generation's id (a short SHA-256 over every file)
 * @param parent the generation the proposing node had in force when it made the change ("" for the
 *               cluster's first)
 * @param serial 1 for the cluster's first generation, one more at each change
 * @param origin the node whose change it is (its {@code primary_hostname})
 * @param files  the main file, acl.yaml, passwd and aliases, in that order, then the list files
 */
public record ConfigGeneration(String id, String parent, long serial, String origin, List<File> files)
    implements BusRecord {

  /** What a file is in the configuration. */
  public enum Role {
    MAIN, ACL, PASSWD, ALIASES, LIST;

    String json() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /**
   * One replicated file.
   *
   * @param role   which file
   * @param path   for a list file, its absolute path (every node writes it there); for the others
   *               the name in the sender's conf/, informative: each node writes its own
   * @param sha256 hex SHA-256 of {@code text} in UTF-8
   * @param text   the whole content
   */
  public record File(Role role, String path, String sha256, String text) {
    JsonObject toJson() {
      return new JsonObject().put("role", role.json()).put("path", path).put("sha256", sha256).put("text", text);
    }

    static File fromJson(JsonObject j) {
      return new File(Role.valueOf(j.getString("role").toUpperCase(java.util.Locale.ROOT)), j.getString("path"),
          j.getString("sha256"), j.getString("text"));
    }
  }

  public ConfigGeneration {
    files = List.copyOf(files);
  }

  /** The same generation with another parent and serial, as the cluster records it. */
  public ConfigGeneration succeeding(String parentId, long newSerial) {
    return new ConfigGeneration(id, parentId, newSerial, origin, files);
  }

  @Override
  public JsonObject toJson() {
    JsonArray f = new JsonArray();
    files.forEach(file -> f.add(file.toJson()));
    return new JsonObject().put("id", id).put("parent", parent).put("serial", serial).put("origin", origin)
        .put("files", f);
  }

  /** The inverse of {@link #toJson()}; an unknown role fails with {@link IllegalArgumentException}. */
  public static ConfigGeneration fromJson(JsonObject j) {
    JsonArray f = j.getJsonArray("files", new JsonArray());
    return new ConfigGeneration(j.getString("id"), j.getString("parent", ""), j.getLong("serial", 0L),
        j.getString("origin", ""), f.stream().map(o -> File.fromJson((JsonObject) o)).toList());
  }
}
