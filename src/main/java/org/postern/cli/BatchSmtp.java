package org.postern.cli;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.postern.config.PosternConfig;
import org.postern.listener.SmtpConnection;

import java.io.InputStream;
import java.io.PrintStream;

/**
 * Batched SMTP on standard input, Exim's {@code -bS}: commands without replies, HELO/EHLO act as
 * RSET, VRFY/EXPN/ETRN/HELP as NOOP, QUIT ends the batch. The first error stops the run with a
 * report on stdout and stderr. Exit status: 0 no error, 1 some messages were accepted before the
 * error, 2 none were.
 */
final class BatchSmtp {
  private final LocalSmtp local;
  private String error;

  BatchSmtp(Vertx vertx, PosternConfig config) {
    this.local = new LocalSmtp(vertx, config);
  }

  /** Runs the batch; completes with the exit status. */
  Future<Integer> run(InputStream in, PrintStream out, PrintStream err) {
    return local.run(in, true, this::check, c -> {
      if (c.inData() && error == null) {
        error = "Unexpected end of file while reading SMTP data: the message was not terminated by a line"
            + " containing only a dot";
      }
    }).map(c -> {
      int accepted = c.deliveries().size();
      if (error == null) {
        return 0;
      }
      String report = "An error was detected while processing a file of BSMTP input.\n"
          + "The error message was:\n\n  " + error + "\n\n"
          + (c.lastCommand().isEmpty() ? "" : "The last command read was:\n\n  " + c.lastCommand() + "\n\n")
          + accepted + " previous message" + (accepted == 1 ? " was" : "s were") + " successfully processed.\n"
          + "The rest of the batch was abandoned.\n";
      out.print(report);
      out.flush();
      err.print(report);
      err.flush();
      return accepted > 0 ? 1 : 2;
    });
  }

  /** Replies are not shown; the first failure ends the batch. */
  private void check(SmtpConnection connection, String reply) {
    if (error != null || reply.length() < 3) {
      return;
    }
    char first = reply.charAt(0);
    if (first == '4' || first == '5') {
      error = reply.strip().replace("\r\n", "\n  ");
      connection.stop();
    }
  }
}
