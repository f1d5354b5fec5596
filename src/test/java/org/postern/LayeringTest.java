package org.postern;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.CompositeArchRule;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * The package layering of DESIGN.md, kept true by the build: the top-level packages under
 * {@code org.postern} import one another without cycles, and no package imports one of a higher
 * layer. Packages of one layer may import each other (lists uses net), as long as that makes no cycle.
 * Plain JUnit tests rather than the ArchUnit engine's {@code @ArchTest} fields: those are not run
 * when surefire selects tests with {@code -Dtest}, as everyone here does.
 */
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
      List.of("cli", "admin", "cluster", "plugins"));

  private static JavaClasses main;

  @BeforeAll
  static void importMainClasses() {
    main = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
        .importPackages("org.postern");
  }

  @Test
  void topLevelPackagesAreFreeOfCycles() {
    slices().matching("org.postern.(*)..").should().beFreeOfCycles().check(main);
  }

  @Test
  void noPackageImportsAHigherLayer() {
    noUpwardImports().check(main);
  }

  @Test
  void everyPackageHasALayer() {
    classes().should()
        .resideInAnyPackage(LAYERS.stream().flatMap(List::stream).map(LayeringTest::tree).toArray(String[]::new))
        .because("a new top-level package needs its place in LayeringTest.LAYERS").check(main);
  }

  private static ArchRule noUpwardImports() {
    List<ArchRule> rules = new ArrayList<>();
    for (int i = 0; i < LAYERS.size() - 1; i++) {
      String[] layer = LAYERS.get(i).stream().map(LayeringTest::tree).toArray(String[]::new);
      String[] above = LAYERS.subList(i + 1, LAYERS.size()).stream().flatMap(List::stream)
          .map(LayeringTest::tree).toArray(String[]::new);
      rules.add(noClasses().that().resideInAnyPackage(layer).should().dependOnClassesThat().resideInAnyPackage(above)
          .because("layer " + (i + 1) + " " + LAYERS.get(i) + " may not import a higher layer"));
    }
    return CompositeArchRule.of(rules);
  }

  /** The package and its sub-packages, in ArchUnit's notation. */
  private static String tree(String name) {
    return "org.postern." + name + "..";
  }
}
