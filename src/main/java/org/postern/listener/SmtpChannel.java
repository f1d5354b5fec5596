package org.postern.listener;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

/**
 * Where a session's bytes go and how its input is throttled: a TCP socket for the daemon, stdin and
 * stdout for {@code -bs}, a reply collector for {@code -bS}.
 */
public interface SmtpChannel {
  void write(Buffer data);

  void close();

  void pause();

  void resume();

  /**
   * Writes {@code reply} (the 220 to STARTTLS) and starts the TLS handshake; completes with the
   * TLS facts once it is done. Channels without TLS fail.
   */
  default Future<JsonObject> startTls(Buffer reply) {
    return Future.failedFuture("TLS unavailable on this channel");
  }
}
