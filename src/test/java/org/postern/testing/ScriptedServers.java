package org.postern.testing;

import io.vertx.core.Vertx;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.concurrent.TimeUnit;

/**
 * The remote SMTP servers of a test class, on a Vert.x of their own (apart from the Postern under
 * test), closed after the class: {@code @RegisterExtension static final ScriptedServers REMOTES = new ScriptedServers();}
 */
public final class ScriptedServers implements BeforeAllCallback, AfterAllCallback {
  private Vertx vertx;

  @Override
  public void beforeAll(ExtensionContext context) {
    vertx = Vertx.vertx();
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  /** Starts {@code server} and returns it once it listens. */
  public ScriptedSmtpServer start(ScriptedSmtpServer server) throws Exception {
    return server.start(vertx).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  /** The Vert.x the servers run on, for other test peers (a DNS server, say). */
  public Vertx vertx() {
    return vertx;
  }
}
