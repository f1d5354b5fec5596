package org.postern.listener;

import io.vertx.core.buffer.Buffer;

/**
 * Where a session's bytes go and how its input is throttled: a TCP socket for the daemon, stdin and
 * stdout for {@code -bs}, a reply collector for {@code -bS}.
 */
public interface SmtpChannel {
  void write(Buffer data);

  void close();

  void pause();

  void resume();
}
