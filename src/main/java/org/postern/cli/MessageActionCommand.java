package org.postern.cli;

import org.postern.queue.MessageActions;

import java.io.IOException;
import java.io.PrintStream;
import java.util.List;

/**
 * {@code -Mrm}, {@code -Mf}, {@code -Mt} and {@code -Mg}: {@link MessageActions} on each id, with
 * the outcomes printed as Exim prints them, one line per id: {@code Message <id> has been removed}
 * on stdout ({@code -Mg} is silent: the main log has the cancellation and the bounce's id),
 * refusals on stderr. Runs on the calling thread (it blocks); a failed id does not stop the others.
 */
final class MessageActionCommand {
  private final MessageActions actions;
  private final PrintStream out;
  private final PrintStream err;

  MessageActionCommand(MessageActions actions, PrintStream out, PrintStream err) {
    this.actions = actions;
    this.out = out;
    this.err = err;
  }

  /** 0 when every message was handled, 1 when any was unknown, locked or already in that state. */
  int apply(MessageActions.Action action, List<String> ids) throws IOException {
    int status = 0;
    for (String id : ids) {
      MessageActions.Outcome outcome = actions.apply(action, id);
      String report = MessageActions.report(action, outcome, id);
      if (outcome != MessageActions.Outcome.DONE) {
        err.println("postern: " + report);
        status = 1;
      } else if (report != null) {
        out.println(report);
      }
    }
    return status;
  }
}
