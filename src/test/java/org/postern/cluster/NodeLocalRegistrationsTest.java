package org.postern.cluster;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Which addresses a clustered node answers itself (no Hazelcast lookup per message) and which it
 * looks up in the cluster: the hot path is node-local, events and cluster commands are not.
 */
class NodeLocalRegistrationsTest {
  @ParameterizedTest
  @ValueSource(strings = {"postern.session.command.3", "postern.session.open.0", "postern.acl.check",
      "postern.acl.check.2", "postern.auth.PLAIN", "postern.queue.enqueue", "postern.deliver.maildir",
      "postern.acl.condition.greylist", "postern.config.adopt", "postern.cluster.config.propose", "postern.tls.changed"})
  void theHotPathIsAnsweredLocally(String address) {
    assertTrue(NodeLocalRegistrations.isNodeLocal(address), address);
  }

  @ParameterizedTest
  @ValueSource(strings = {"postern.cluster.generation", "postern.queue.flush", "postern.config.changed",
      "postern.config.refused", "postern.event.accepted", "postern.cluster.queue.5b1c0e", "__vertx.reply.12",
      "my.plugin.address"})
  void eventsClusterCommandsAndForeignAddressesAreLookedUp(String address) {
    assertFalse(NodeLocalRegistrations.isNodeLocal(address), address);
  }
}
