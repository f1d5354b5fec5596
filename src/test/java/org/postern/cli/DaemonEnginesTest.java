package org.postern.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postern.testing.Await;
import org.postern.testing.ChildPostern;
import org.postern.testing.PosternTestServer;
import org.postern.tls.TlsEngine;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The daemon runs on the native epoll transport and BoringSSL where they load (linux-x86_64), and says so at start. */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class DaemonEnginesTest {
  @Test
  void theDaemonLogsTheNativeTransportAndTheTlsEngineItRunsOn() throws Exception {
    assumeTrue(System.getProperty(PosternTestServer.TLS_ENGINE_PROPERTY) == null, "default engine only");
    int port = ChildPostern.freePort();
    try (PosternTestServer files = PosternTestServer.create()
        .option("listeners", "{ smtp: { address: 127.0.0.1, port: " + port + " } }")
        .option("tls_on_connect_ports", "\"\"");
         ChildPostern daemon = ChildPostern.daemon(files.root(), files.writeConfig(), port)) {
      String engine = TlsEngine.openSslAvailable() ? "TLS engine: OpenSSL (BoringSSL" : "TLS engine: JSSE";
      assertTrue(Await.holdsWithin(20_000, () -> daemon.stderr().contains("transport: native epoll")
          && daemon.stderr().contains(engine)), daemon::diagnostics);
    }
  }
}
