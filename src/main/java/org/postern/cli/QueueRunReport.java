package org.postern.cli;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.postern.bus.Addresses;
import org.postern.bus.MessageEvent;
import org.postern.bus.QueueFlushReply;

import java.io.PrintStream;
import java.util.List;

/**
 * What a queue run ({@code -q}, {@code -qf}, {@code -qff}, {@code -R}, {@code -M}) tells the admin:
 * with {@code -v}, each delivery as it happens, in the main log's words ({@code =>}, {@code ==},
 * {@code **}), from this process's own message events; and the one-line summary at the end, with
 * {@code -v} or when standard output is a terminal. Exim prints nothing; a cron job's output is
 * mailed to its owner, so a line at every run would be mail at every run.
 */
final class QueueRunReport {
  private QueueRunReport() {
  }

  /** Whether the summary is printed: asked for ({@code -v}) or someone is watching. */
  static boolean wanted(boolean verbose) {
    return verbose || System.console() != null;
  }

  /** {@code queue run: 3 messages; recipients: 2 delivered, 1 deferred, 0 failed}. */
  static String summary(QueueFlushReply r) {
    return "queue run: " + r.started() + (r.started() == 1 ? " message" : " messages") + "; recipients: "
        + r.delivered() + " delivered, " + r.deferred() + " deferred, " + r.failed() + " failed";
  }

  /** Prints every delivered, deferred and failed recipient of this process on {@code out} as it happens. */
  static void echo(Vertx vertx, PrintStream out) {
    for (MessageEvent.Kind kind : List.of(MessageEvent.Kind.DELIVERED, MessageEvent.Kind.DEFERRED,
        MessageEvent.Kind.FAILED)) {
      vertx.eventBus().<JsonObject>localConsumer(Addresses.event(kind), m -> out.println(line(
          MessageEvent.fromJson(m.body()))));
    }
  }

  static String line(MessageEvent e) {
    String tags = " " + e.recipient() + (e.router() == null ? "" : " R=" + e.router())
        + (e.transport() == null ? "" : " T=" + e.transport());
    return e.id() + switch (e.kind()) {
      case DELIVERED -> " =>" + tags;
      case DEFERRED -> " ==" + tags + " defer: " + e.text();
      default -> " **" + tags + ": " + e.text();
    };
  }
}
