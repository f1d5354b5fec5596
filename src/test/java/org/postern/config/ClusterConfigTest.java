package org.postern.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.postern.bus.ConfigGeneration;
import org.postern.spool.MessageIds;

/**
 * The {@code cluster:} section, node.yaml over postern.yaml, {@code localhost_number}, and a
 * configuration as a generation (the replicated files and their SHA-256), against real files.
 */
class ClusterConfigTest {
  private static final String BASE = String.join("\n",
      "primary_hostname: mx.test.example",
      "cluster:",
      "  name: postern-test",
      "  host: 127.0.0.1",
      "  port: 5701",
      "  members: \"127.0.0.1:5701 : 127.0.0.1:5702 : 127.0.0.1:5703\"",
      "");

  @TempDir
  Path dir;

  private Path conf(String postern, String node) throws Exception {
    Files.writeString(dir.resolve("postern.yaml"), postern, StandardCharsets.UTF_8);
    Files.copy(Path.of("conf", "acl.yaml"), dir.resolve("acl.yaml"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    Files.writeString(dir.resolve("passwd"), "alice:{PLAIN}secret\n");
    if (node != null) {
      Files.writeString(dir.resolve("node.yaml"), node, StandardCharsets.UTF_8);
    } else {
      Files.deleteIfExists(dir.resolve("node.yaml"));
    }
    return dir.resolve("postern.yaml");
  }

  private ConfigException refused(String postern, String node) throws Exception {
    Path file = conf(postern, node);
    return assertThrows(ConfigException.class, () -> ConfigLoader.load(file));
  }

  @Test
  void withoutAClusterSectionNothingIsClustered() throws Exception {
    PosternConfig c = ConfigLoader.load(conf("primary_hostname: mx.test.example\n", null));
    assertNull(c.cluster());
    assertNull(c.localhostNumber());
  }

  @Test
  void membersAreHostPortItemsSeparatedBySpacedColons() throws Exception {
    ClusterSettings s = ConfigLoader.load(conf(BASE, null)).cluster();
    assertEquals("postern-test", s.name());
    assertEquals("127.0.0.1:5701", s.address());
    assertEquals(List.of("127.0.0.1:5701", "127.0.0.1:5702", "127.0.0.1:5703"),
        s.members().stream().map(ClusterSettings.Member::address).toList());
  }

  @Test
  void theListSeparatorCanBeChangedAsInExim() throws Exception {
    ClusterSettings s = ConfigLoader.load(conf(BASE.replace("\"127.0.0.1:5701 : 127.0.0.1:5702 : 127.0.0.1:5703\"",
        "\"<; 127.0.0.1:5701; [::1]:5702 ;10.0.0.3\""), null)).cluster();
    assertEquals(List.of("127.0.0.1:5701", "[::1]:5702", "10.0.0.3:5701"),
        s.members().stream().map(ClusterSettings.Member::address).toList());
  }

  @Test
  void membersMayBeAYamlSequence() throws Exception {
    ClusterSettings s = ConfigLoader.load(conf(BASE.replace("\"127.0.0.1:5701 : 127.0.0.1:5702 : 127.0.0.1:5703\"",
        "[ \"127.0.0.1:5801\", \"127.0.0.1:5802\" ]"), null)).cluster();
    assertEquals(List.of("127.0.0.1:5801", "127.0.0.1:5802"),
        s.members().stream().map(ClusterSettings.Member::address).toList());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "name: postern-test|name: \"bad name\"|postern.yaml:3: cluster.name: expected a cluster name",
      "host: 127.0.0.1|host: node1.example|postern.yaml:4: cluster.host: expected this node's IP address",
      "port: 5701|port: 70000|postern.yaml:5: cluster.port: must be between 1 and 65535, got 70000",
      "127.0.0.1:5702 :|127.0.0.1:x :|postern.yaml:6: cluster.members: item 2 \"127.0.0.1:x\": not a port number",
      "127.0.0.1:5702 :|127.0.0.1:5702:6 :|postern.yaml:6: cluster.members: item 2 \"127.0.0.1:5702:6\": write an IPv6",
      "port: 5701|prot: 5701|postern.yaml:5: cluster.prot: unknown option",
  })
  void badClusterValuesAreRefusedWithFileLineAndOption(String from, String to, String expected) throws Exception {
    ConfigException e = refused(BASE.replace(from, to), null);
    assertTrue(e.getMessage().contains(expected), e.getMessage());
  }

  @Test
  void aClusterWithoutMembersIsRefused() throws Exception {
    ConfigException e = refused(BASE.replace("\"127.0.0.1:5701 : 127.0.0.1:5702 : 127.0.0.1:5703\"", "\"\""), null);
    assertTrue(e.getMessage().contains("postern.yaml:6: cluster.members: at least one member"), e.getMessage());
  }

  @Test
  void nodeYamlOverridesTheNodeLocalOptions() throws Exception {
    PosternConfig c = ConfigLoader.load(conf(BASE + "spool_directory: ../spool\nlocalhost_number: 1\n", String.join("\n",
        "primary_hostname: node2.test.example",
        "spool_directory: ../node2/spool",
        "listeners: { smtp: { address: 127.0.0.1, port: 2626 } }",
        "localhost_number: 2",
        "cluster: { host: 127.0.0.2, port: 5702 }",
        "")));
    assertEquals("node2.test.example", c.primaryHostname());
    assertEquals(dir.resolve("../node2/spool").normalize(), c.spoolDirectory());
    assertEquals(2626, c.listeners().get(0).port());
    assertEquals(2, c.localhostNumber());
    assertEquals("127.0.0.2:5702", c.cluster().address());
    assertEquals("postern-test", c.cluster().name());
  }

  @Test
  void nodeYamlIsNotPartOfTheGeneration() throws Exception {
    String one = ConfigLoader.load(conf(BASE, "localhost_number: 1\n")).generation();
    String two = ConfigLoader.load(conf(BASE, "localhost_number: 2\nprimary_hostname: other.example\n")).generation();
    String edited = ConfigLoader.load(conf(BASE + "recipients_max: 10\n", "localhost_number: 2\n")).generation();
    assertEquals(one, two);
    assertNotEquals(one, edited);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "message_size_limit: 1M|node.yaml:2: message_size_limit: not a node-local option: set it in postern.yaml",
      "cluster: { name: other }|node.yaml:2: cluster.name: the cluster's option: set it in postern.yaml",
      "localhost_number: 17|node.yaml:2: localhost_number: must be between 0 and 16, got 17",
      "spool_directory: [a, b]|node.yaml:2: spool_directory: expected a single value",
  })
  void badNodeYamlIsRefusedWithItsOwnFileAndLine(String line, String expected) throws Exception {
    ConfigException e = refused(BASE, "# this node\n" + line + "\n");
    assertTrue(e.getMessage().contains(expected), e.getMessage());
  }

  @Test
  void aClusterSectionInNodeYamlAloneIsRefused() throws Exception {
    ConfigException e = refused("primary_hostname: mx.test.example\n", "cluster: { port: 5702 }\n");
    assertTrue(e.getMessage().contains("node.yaml:1: cluster.name: a cluster: section in node.yaml needs one in"
        + " postern.yaml"), e.getMessage());
  }

  @Test
  void localhostNumberGoesIntoEveryMessageId() {
    MessageIds.useLocalhostNumber(7);
    String id = MessageIds.next();
    assertTrue(MessageIds.isValid(id), id);
    assertEquals('7', id.charAt(7), id);
    MessageIds.useLocalhostNumber(16);
    assertEquals('G', MessageIds.next().charAt(7));
    assertThrows(IllegalArgumentException.class, () -> MessageIds.useLocalhostNumber(17));
  }

  @Test
  void aGenerationIsValidatedWithTheReceivingNodesOwnSettings() throws Exception {
    Path blocked = dir.resolve("blocked-hosts");
    Files.writeString(blocked, "192.0.2.1\n");
    PosternConfig sender = ConfigLoader.load(conf(BASE + "hostlist: { blocked: \"" + blocked + "\" }\n",
        "primary_hostname: node1.test.example\n"));
    ConfigGeneration g = GenerationFiles.of(sender, "", "node1.test.example");
    assertEquals(sender.generation(), g.id());
    assertEquals(List.of(ConfigGeneration.Role.MAIN, ConfigGeneration.Role.ACL, ConfigGeneration.Role.PASSWD,
        ConfigGeneration.Role.ALIASES, ConfigGeneration.Role.LIST), g.files().stream().map(ConfigGeneration.File::role).toList());
    assertEquals(GenerationFiles.sha256("192.0.2.1\n"), g.files().get(4).sha256());
    assertEquals(g, ConfigGeneration.fromJson(g.toJson()));

    // Received elsewhere: the list file's content comes with the generation, not from disk.
    Files.writeString(blocked, "192.0.2.99\n");
    PosternConfig receiver = GenerationFiles.parse(dir.resolve("postern.yaml"), g, "primary_hostname: node3.test.example\n");
    assertEquals(g.id(), receiver.generation());
    assertEquals("node3.test.example", receiver.primaryHostname());
  }

  @Test
  void aGenerationWhoseFilesDoNotMatchTheirHashIsRefused() throws Exception {
    ConfigGeneration g = GenerationFiles.of(ConfigLoader.load(conf(BASE, null)), "", "node1");
    List<ConfigGeneration.File> files = new ArrayList<>(g.files());
    ConfigGeneration.File acl = files.get(1);
    files.set(1, new ConfigGeneration.File(acl.role(), acl.path(), acl.sha256(), acl.text() + "\n# changed\n"));
    ConfigException e = assertThrows(ConfigException.class, () -> GenerationFiles.parse(dir.resolve("postern.yaml"),
        new ConfigGeneration(g.id(), "", 1, "node1", files), ""));
    assertTrue(e.getMessage().contains("SHA-256 mismatch"), e.getMessage());
  }

  @Test
  void anAdoptedGenerationIsWrittenIntoConfAndComesBackOnRestart() throws Exception {
    Path file = conf(BASE + "recipients_max: 10\n", "localhost_number: 3\n");
    ConfigGeneration edited = GenerationFiles.of(ConfigLoader.load(file), "", "node2");
    conf(BASE, "localhost_number: 3\n");
    GenerationFiles.write(file, edited);
    PosternConfig restarted = ConfigLoader.load(file);
    assertEquals(edited.id(), restarted.generation());
    assertEquals(10, restarted.recipientsMax());
    assertEquals("localhost_number: 3\n", Files.readString(dir.resolve("node.yaml")), "node.yaml is never replicated");
    try (var left = Files.list(dir)) {
      assertEquals(List.of(), left.filter(p -> p.getFileName().toString().startsWith(".")).toList(), "temporary files");
    }
  }
}
