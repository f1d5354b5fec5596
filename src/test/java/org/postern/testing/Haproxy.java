package org.postern.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real HAProxy (Debian's {@code haproxy}, installed by {@code .ci/run}) in TCP mode in front of
 * Postern, run as a child process in the foreground ({@code -db}) with a generated configuration:
 * never the system service. It connects to its servers from {@link #SOURCE} (127.0.0.3), which is
 * what {@code hosts_proxy} names, so the clients of a test (from 127.0.0.2) and the proxy can be
 * told apart on loopback.
 */
public final class Haproxy implements AutoCloseable {
  /** The address HAProxy connects to Postern from. */
  public static final String SOURCE = "127.0.0.3";
  /** The address test clients connect to HAProxy from. */
  public static final String CLIENT = "127.0.0.2";

  private final Process process;
  private final Path log;
  private final int port;

  private Haproxy(Process process, Path log, int port) {
    this.process = process;
    this.log = log;
    this.port = port;
  }

  /** The haproxy binary: on the PATH, or where Debian puts it (not on a non-root PATH). */
  public static String binary() {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "haproxy"))) {
        return Path.of(dir, "haproxy").toString();
      }
    }
    return "/usr/sbin/haproxy";
  }

  /**
   * A server line for the backend: Postern at {@code port} on 127.0.0.1, reached from {@link #SOURCE},
   * with {@code options} such as {@code send-proxy-v2} or {@code send-proxy}.
   */
  public static String server(String name, int port, String options) {
    return "  server " + name + " 127.0.0.1:" + port + " source " + SOURCE + " " + options + "\n";
  }

  /**
   * Starts HAProxy with one TCP frontend on a free port balancing over {@code servers} (lines from
   * {@link #server}), and waits until it accepts connections. {@code backendOptions} are extra
   * backend lines (e.g. {@code balance roundrobin}).
   */
  public static Haproxy start(Path dir, List<String> servers, String backendOptions) throws Exception {
    Files.createDirectories(dir);
    int port = ChildPostern.freePort();
    int ready = ChildPostern.freePort();
    String config = "global\n  maxconn 2000\n"
        + "defaults\n  mode tcp\n  timeout connect 2s\n  timeout client 30s\n  timeout server 30s\n"
        + "  retries 3\n  option redispatch\n"
        // A frontend that touches no server: connecting to it says HAProxy is up, without a proxied connection.
        + "frontend ready\n  mode http\n  bind 127.0.0.1:" + ready + "\n  monitor-uri /ready\n"
        + "frontend smtp\n  bind 127.0.0.1:" + port + "\n  default_backend postern\n"
        + "backend postern\n" + backendOptions + String.join("", servers);
    Path cfg = dir.resolve("haproxy-" + port + ".cfg");
    Files.writeString(cfg, config, StandardCharsets.US_ASCII);
    Path log = dir.resolve("haproxy-" + port + ".log");
    Process p = new ProcessBuilder(binary(), "-f", cfg.toString(), "-db")
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    Haproxy haproxy = new Haproxy(p, log, port);
    boolean up = Await.holdsWithin(10_000, () -> !p.isAlive() || ChildPostern.accepts(ready));
    if (!up || !p.isAlive()) {
      haproxy.close();
      throw new AssertionError("haproxy did not start:\n" + config + "\n" + haproxy.output());
    }
    return haproxy;
  }

  /** The frontend port clients connect to. */
  public int port() {
    return port;
  }

  /** What HAProxy wrote (warnings, alerts), for failure messages. */
  public String output() {
    try {
      return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      return "(cannot read " + log + ": " + e + ")";
    }
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(5, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
    }
  }
}
