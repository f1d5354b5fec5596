package org.postern.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.MultiMapConfig;
import com.hazelcast.config.NetworkConfig;
import org.postern.config.ClusterSettings;

/**
 * Hazelcast's configuration, made from the {@code cluster:} section (no hazelcast.xml): the cluster
 * name, a TCP-IP join with the listed members (multicast and auto-detection off), this node's
 * address and port, no phone-home, logging through slf4j, and timeouts short enough that a node
 * alone, or one that died, is noticed in seconds rather than Hazelcast's minutes.
 */
final class HazelcastSettings {
  /** Ports a command-line tool tries after the node's own when it joins as a lite member. */
  static final int TOOL_PORT_COUNT = 100;

  private HazelcastSettings() {
  }

  /**
   * @param tool true for a command-line tool ({@code --cluster-status}, {@code -q --cluster}): a lite
   *             member (holds no data) on the first free port after the node's
   */
  static Config of(ClusterSettings cluster, boolean tool) {
    Config config = new Config();
    config.setClusterName(cluster.name());
    config.setLiteMember(tool);
    config.setProperty("hazelcast.logging.type", "slf4j");
    config.setProperty("hazelcast.phone.home.enabled", "false");
    // Join at once, and give up on absent members after a second each: the first node of a
    // cluster otherwise waits for them for tens of seconds before it forms the cluster alone.
    config.setProperty("hazelcast.wait.seconds.before.join", "0");
    config.setProperty("hazelcast.max.wait.seconds.before.join", "1");
    // A member that stops answering is dropped after 10 s (Hazelcast: 60 s).
    config.setProperty("hazelcast.heartbeat.interval.seconds", "1");
    config.setProperty("hazelcast.max.no.heartbeat.seconds", "10");
    // Nodes started together may form separate clusters at first: merge them soon.
    config.setProperty("hazelcast.merge.first.run.delay.seconds", "5");
    config.setProperty("hazelcast.merge.next.run.delay.seconds", "5");
    config.setProperty("hazelcast.socket.bind.any", "false");
    config.setProperty("hazelcast.shutdownhook.enabled", "false");
    NetworkConfig network = config.getNetworkConfig();
    network.setPort(cluster.port()).setPortAutoIncrement(tool).setPortCount(TOOL_PORT_COUNT);
    network.getInterfaces().setEnabled(true).addInterface(cluster.host());
    if (!tool) {
      network.setPublicAddress(cluster.address());
    }
    JoinConfig join = network.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true).setConnectionTimeoutSeconds(1);
    cluster.members().forEach(m -> join.getTcpIpConfig().addMember(m.address()));
    // As vertx-hazelcast's default-cluster.xml: the event bus's subscriptions are a set.
    config.addMultiMapConfig(new MultiMapConfig("__vertx.subs").setBackupCount(1)
        .setValueCollectionType(MultiMapConfig.ValueCollectionType.SET));
    return config;
  }
}
