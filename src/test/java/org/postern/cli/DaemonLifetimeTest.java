package org.postern.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postern.testing.ChildPostern;
import org.postern.testing.PosternTestServer;
import org.postern.testing.SmtpTestClient;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The daemon keeps running after the command returns; only the one-shot modes exit. A regression:
 * {@code --verticles FILE} was taken for {@code --version} (prefix match on "--v"), so a daemon
 * started with its own deployment list exited right after it began listening.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class DaemonLifetimeTest {

  @Test
  void daemonWithItsOwnDeploymentListStaysUp() throws Exception {
    try (PosternTestServer files = PosternTestServer.create()) {
      int port = ChildPostern.freePort();
      files.option("listeners", "{ smtp: { address: 127.0.0.1, port: " + port + " } }");
      Path config = files.writeConfig();
      Path verticles = files.root().resolve("verticles.json");
      Files.copy(Path.of("verticles.json"), verticles);
      try (ChildPostern daemon = ChildPostern.daemon(files.root(), config, port, "--verticles", verticles.toString())) {
        // An exit would come right after "listening"; give it the time it took before the fix.
        assertFalse(daemon.waitFor(3000), "the daemon exited:\n" + daemon.diagnostics());
        try (SmtpTestClient c = SmtpTestClient.connect(port)) {
          assertEquals(220, c.reply().code());
          assertEquals(221, c.command("QUIT").code());
        }
      }
    }
  }
}
