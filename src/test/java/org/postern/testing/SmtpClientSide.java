package org.postern.testing;

import org.postern.testing.SmtpTestClient.Reply;

import java.io.IOException;
import java.time.Duration;

/**
 * The client's end of one SMTP session, over a real socket ({@link SmtpTestClient}) or in memory
 * ({@link InMemorySmtp}), so one transcript helper ({@link CheckedSmtp}) drives both.
 */
public interface SmtpClientSide extends AutoCloseable {
  /** Sends the text's UTF-8 bytes exactly as given. */
  void send(String text) throws IOException;

  /** Sends bytes exactly as given. */
  void sendRaw(byte[] bytes) throws IOException;

  /** The next complete reply. */
  Reply reply() throws IOException;

  /** True when the server ends the session within {@code within}. */
  boolean closedByServer(Duration within) throws Exception;
}
