package org.postern.delivery.smtp;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import org.postern.config.ClientAuthenticator;
import org.postern.config.SmtpTransportOptions;
import org.postern.config.YamlSection;
import org.postern.testing.ScriptedSmtpServer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/** Set-up shared by the smtp client tests: options from YAML, spool-like data files, blocking waits. */
final class SmtpClientTesting {
  static final String HELO = "client.test.example";
  static final String HOST_NAME = "mx.test.example";

  private SmtpClientTesting() {
  }

  /** Transport options parsed from YAML, exactly as a configuration file would give them. */
  static SmtpTransportOptions options(Path base, String yaml) throws Exception {
    return options(base, yaml, "");
  }

  static SmtpTransportOptions options(Path base, String yaml, String authenticatorsYaml) throws Exception {
    YamlSection auth = authenticatorsYaml.isEmpty() ? null
        : YamlSection.parse("auth.yaml", authenticatorsYaml);
    List<ClientAuthenticator> authenticators = ClientAuthenticator.parseAll(auth);
    return SmtpTransportOptions.parse(YamlSection.parse("transport.yaml", yaml), HELO, base, null, authenticators);
  }

  static RemoteHost host(ScriptedSmtpServer server) {
    return host(HOST_NAME, server);
  }

  static RemoteHost host(String name, ScriptedSmtpServer server) {
    return new RemoteHost(name, "127.0.0.1", server.port());
  }

  /** A data file with this content (CRLF line ends expected in the text). */
  static Path dataFile(Path dir, String name, String content) throws Exception {
    Path file = dir.resolve(name + "-D");
    Files.writeString(file, content, StandardCharsets.ISO_8859_1);
    return file;
  }

  static OutboundMessage message(Path data, String... recipients) throws Exception {
    return new OutboundMessage("sender@client.test.example", List.of(recipients), data, Files.size(data), false);
  }

  /** Waits for a future from the test thread (never an event loop); 20 s means it got stuck. */
  static <T> T await(Future<T> future) throws Exception {
    try {
      return future.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception ex ? ex : e;
    }
  }

  /** The reason an open failed, or fails the test when it succeeded. */
  static String openFailure(Vertx vertx, NetClient client, RemoteHost host, SmtpTransportOptions options)
      throws Exception {
    try {
      SmtpClientConnection c = await(SmtpClientConnection.open(vertx, client, host, options));
      await(c.quit());
      throw new AssertionError("connection opened, expected a host deferral");
    } catch (HostDeferral d) {
      return d.getMessage();
    }
  }

  /** Opens, sends one message, quits. */
  static MessageResult deliver(Vertx vertx, NetClient client, RemoteHost host, SmtpTransportOptions options,
                               OutboundMessage message) throws Exception {
    SmtpClientConnection c = await(SmtpClientConnection.open(vertx, client, host, options));
    MessageResult r = await(c.send(message));
    await(c.quit());
    return r;
  }

  static ScriptedSmtpServer started(Vertx vertx, ScriptedSmtpServer server) throws Exception {
    return await(server.start(vertx));
  }
}
