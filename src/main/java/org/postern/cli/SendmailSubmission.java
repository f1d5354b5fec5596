package org.postern.cli;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import org.postern.bus.SessionOpen;
import org.postern.config.PosternConfig;
import org.postern.listener.SmtpConnection;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * The sendmail-compatible front end ({@code -bm}, {@code -t}), so cron, mailx and PHP's
 * {@code mail()} can use Postern as {@code /usr/sbin/sendmail}: the message read from standard
 * input ({@link SendmailMessage}) goes through the same session, ACLs and spool as any local SMTP
 * submission, one command at a time (so no line of the message can ever be read as a command),
 * and is delivered in this process before it exits, as Exim's {@code -odi}.
 *
 * <p>Exit status from {@code sysexits.h}: 0 accepted for every recipient; 64 (EX_USAGE) no
 * recipient; 65 (EX_DATAERR) the message was refused; 67 (EX_NOUSER) a recipient was refused (the
 * others still get the message, and stderr names the refused ones); 75 (EX_TEMPFAIL) a temporary
 * refusal; 70 (EX_SOFTWARE) the session failed.
 */
final class SendmailSubmission {
  static final int EX_OK = 0;
  static final int EX_USAGE = 64;
  static final int EX_DATAERR = 65;
  static final int EX_NOUSER = 67;
  static final int EX_SOFTWARE = 70;
  static final int EX_TEMPFAIL = 75;

  private final LocalSmtp local;
  private final SendmailMessage message;
  private final PrintStream err;
  private final List<String> refused = new ArrayList<>();
  private final Promise<Integer> status = Promise.promise();
  private Step step = Step.GREETING;
  private int recipient;
  private boolean anyTemporary;

  private enum Step { GREETING, EHLO, MAIL, RCPT, DATA, CONTENT, QUIT }

  SendmailSubmission(Vertx vertx, PosternConfig config, SendmailMessage message, PrintStream err) {
    this.local = new LocalSmtp(vertx, config);
    this.message = message;
    this.err = err;
  }

  /** Submits the message; completes with the exit status once its first delivery attempt is over. */
  Future<Integer> run() {
    if (message.recipients().isEmpty()) {
      err.println("postern: no recipients");
      return Future.succeededFuture(EX_USAGE);
    }
    String id = "sendmail-" + ProcessHandle.current().pid();
    return local.drive(SessionOpen.local(id, false), this::replied)
        .compose(connection -> {
          // Closed without the reply this step waited for (the connection was dropped).
          status.tryComplete(EX_SOFTWARE);
          return status.future();
        })
        .recover(e -> {
          err.println("postern: " + e.getMessage());
          return Future.succeededFuture(EX_SOFTWARE);
        });
  }

  /** One reply (a multi-line one whole) came: check it against the step, send the next input. */
  private void replied(SmtpConnection connection, String reply) {
    int code = code(reply);
    switch (step) {
      case GREETING -> expect(connection, reply, code, 220, Step.EHLO, "EHLO localhost");
      case EHLO -> expect(connection, reply, code, 250, Step.MAIL, "MAIL FROM:<" + message.sender() + ">"
          + (message.eightBit() ? " BODY=8BITMIME" : ""));
      case MAIL -> expect(connection, reply, code, 250, Step.RCPT, rcpt(0));
      case RCPT -> {
        if (code / 100 != 2) {
          anyTemporary |= code / 100 == 4;
          refused.add(message.recipients().get(recipient) + ": " + text(reply));
        }
        recipient++;
        if (recipient < message.recipients().size()) {
          send(connection, rcpt(recipient));
        } else if (refused.size() == message.recipients().size()) {
          finish(connection, anyTemporary ? EX_TEMPFAIL : EX_NOUSER);
        } else {
          step = Step.DATA;
          send(connection, "DATA");
        }
      }
      case DATA -> {
        if (code != 354) {
          fail(connection, reply, code);
          return;
        }
        step = Step.CONTENT;
        connection.received(message.smtpContent());
      }
      case CONTENT -> {
        if (code / 100 != 2) {
          fail(connection, reply, code);
          return;
        }
        finish(connection, refused.isEmpty() ? EX_OK : anyTemporary ? EX_TEMPFAIL : EX_NOUSER);
      }
      case QUIT -> connection.endOfInput();
    }
  }

  private String rcpt(int n) {
    return "RCPT TO:<" + message.recipients().get(n) + ">";
  }

  private void expect(SmtpConnection connection, String reply, int code, int wanted, Step next, String command) {
    if (code != wanted) {
      fail(connection, reply, code);
      return;
    }
    step = next;
    send(connection, command);
  }

  private void fail(SmtpConnection connection, String reply, int code) {
    err.println("postern: message not accepted: " + reply.strip());
    finish(connection, code / 100 == 4 ? EX_TEMPFAIL : code / 100 == 5 ? EX_DATAERR : EX_SOFTWARE);
  }

  private void finish(SmtpConnection connection, int exit) {
    for (String r : refused) {
      err.println("postern: recipient refused: " + r);
    }
    status.tryComplete(exit);
    step = Step.QUIT;
    send(connection, "QUIT");
  }

  private static void send(SmtpConnection connection, String command) {
    connection.received(Buffer.buffer(command + "\r\n"));
  }

  private static int code(String reply) {
    try {
      return Integer.parseInt(reply.substring(0, 3));
    } catch (RuntimeException e) {
      return 0;
    }
  }

  /** The last line's text, without the code: what the refusal says. */
  private static String text(String reply) {
    String[] lines = reply.strip().split("\r\n");
    String last = lines[lines.length - 1];
    return last.length() > 4 ? last.substring(4) : last;
  }
}
