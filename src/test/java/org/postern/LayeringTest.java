package org.postern;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.library.Architectures.LayeredArchitecture;

import java.util.List;
import java.util.stream.IntStream;

import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * The package layering of DESIGN.md, kept true by the build (ArchUnit's JUnit 5 engine runs the
 * {@code @ArchTest} rules): the top-level packages under {@code org.postern} import one another
 * without cycles, no package imports one of a higher layer, and every package has a layer.
 * Packages of one layer may import each other (lists uses net), as long as that makes no cycle.
 */
@AnalyzeClasses(packages = "org.postern", importOptions = ImportOption.DoNotIncludeTests.class)
class LayeringTest {
  /**
   * The layers, lowest first; the one place the order is written down. A package (with its
   * sub-packages) may import packages of its own layer and of the layers before it.
   */
  static final List<List<String>> LAYERS = List.of(
      // Vocabulary everyone shares: bus contracts, SMTP replies and paths, IP addresses, Exim
      // lists, the expansion language, TLS credentials and facts, the spool, the main log.
      List.of("bus", "smtp", "net", "lists", "expand", "tls", "spool", "log"),
      // Resolvers and their settings.
      List.of("dns"),
      // The ACL language: rules, conditions and their evaluation, over AclSettings.
      List.of("policy"),
      // Parses and validates every option (acl.yaml into policy's rules) into immutable records.
      List.of("config"),
      // Policy, SASL, queue runs and transports, behind the bus.
      List.of("acl", "auth", "queue", "delivery"),
      // Sockets and the SMTP state machine.
      List.of("listener", "session"),
      // Entry points and operations.
      List.of("cli", "admin", "cluster", "plugins", "metrics"));

  @ArchTest
  static final ArchRule TOP_LEVEL_PACKAGES_ARE_FREE_OF_CYCLES =
      slices().matching("org.postern.(*)..").should().beFreeOfCycles();

  @ArchTest
  static final ArchRule NO_PACKAGE_IMPORTS_A_HIGHER_LAYER = layers()
      .because("a package may import only its own layer and those below it (LayeringTest.LAYERS); "
          + "a new top-level package needs its place there");

  /** {@link #LAYERS} as ArchUnit's layered architecture: layer n may use layers 1..n only. */
  private static LayeredArchitecture layers() {
    // Optional layers: a part still to come (cluster, plugins) may leave its package out for now.
    LayeredArchitecture architecture = layeredArchitecture().consideringOnlyDependenciesInLayers()
        .ensureAllClassesAreContainedInArchitecture().withOptionalLayers(true);
    for (int i = 0; i < LAYERS.size(); i++) {
      architecture = architecture.layer(name(i)).definedBy(LAYERS.get(i).stream()
          .map(p -> "org.postern." + p + "..").toArray(String[]::new));
    }
    architecture = architecture.whereLayer(name(0)).mayNotAccessAnyLayer();
    for (int i = 1; i < LAYERS.size(); i++) {
      architecture = architecture.whereLayer(name(i))
          .mayOnlyAccessLayers(IntStream.range(0, i).mapToObj(LayeringTest::name).toArray(String[]::new));
    }
    return architecture;
  }

  /** Layer {@code i} (0-based) by its number and packages, for the failure message: "2 [dns]". */
  private static String name(int i) {
    return (i + 1) + " " + LAYERS.get(i);
  }
}
