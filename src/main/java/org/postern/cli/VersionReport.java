package org.postern.cli;

import org.postern.auth.PasswordSchemes;
import org.postern.config.AuthenticatorConfig;
import org.postern.config.PosternConfig;
import org.postern.plugins.PluginPresence;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * What {@code -bV} prints, as Exim's {@code -bV} does: the versions of what Postern runs on, the
 * TLS engine, the drivers the configuration uses, the plugin addresses it names and the password schemes it can check, then the
 * configuration file it read.
 */
final class VersionReport {
  static final String VERSION = "0.1.0";

  private VersionReport() {
  }

  static List<String> lines(PosternConfig config, Path configFile) {
    List<String> lines = new ArrayList<>();
    lines.add("Postern " + VERSION);
    lines.add("Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")"
        + ", Vert.x " + artifactVersion("io.vertx", "vertx-core")
        + ", Netty " + artifactVersion("io.netty", "netty-common")
        + ", Bouncy Castle " + new org.bouncycastle.jce.provider.BouncyCastleProvider().getVersionStr());
    lines.add("TLS engine: " + config.tls().engine().describe() + ", protocols " + String.join(" ", config.tls().protocols()));
    List<String> authenticators = new ArrayList<>();
    for (AuthenticatorConfig a : config.auth().authenticators()) {
      authenticators.add(a.name() + " (" + a.driver() + ", " + a.publicName() + ")");
    }
    lines.add("Authenticators: " + (authenticators.isEmpty() ? "none" : String.join(" ", authenticators)));
    List<String> transports = new ArrayList<>(List.of("maildir"));
    config.delivery().transports().keySet().forEach(name -> transports.add(name + " (smtp)"));
    config.delivery().pluginTransports().keySet().forEach(name -> transports.add(name + " (plugin)"));
    lines.add("Transports: " + String.join(" ", transports));
    // Served only when verticles.json deploys a plugin on them; the daemon reports the unserved ones.
    List<PluginPresence.Use> plugins = PluginPresence.uses(config);
    lines.add("Plugin addresses:" + (plugins.isEmpty() ? " none" : ""));
    plugins.forEach(use -> lines.add("  " + use.address() + ": " + use.what()));
    lines.add("Password schemes: " + String.join(" ", PasswordSchemes.names()));
    lines.add("Configuration file is " + configFile + " (generation " + config.generation() + "): OK");
    return lines;
  }

  /** The version in the artifact's Maven metadata, which the jar keeps; "unknown" when absent. */
  private static String artifactVersion(String group, String artifact) {
    String resource = "/META-INF/maven/" + group + "/" + artifact + "/pom.properties";
    try (InputStream in = VersionReport.class.getResourceAsStream(resource)) {
      if (in == null) {
        return "unknown";
      }
      Properties p = new Properties();
      p.load(in);
      return p.getProperty("version", "unknown");
    } catch (IOException e) {
      return "unknown";
    }
  }
}
