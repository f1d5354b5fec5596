package org.postern.cli;

import io.vertx.core.Future;
import org.postern.bus.RemoteHost;
import org.postern.config.PosternConfig;
import org.postern.policy.VerifyRecipientCondition;
import org.postern.queue.AddressRouting;
import org.postern.queue.AddressRouting.Outcome;
import org.postern.smtp.MailPath;
import org.postern.smtp.MailPathException;
import org.postern.spool.Envelope;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * {@code -bt}: Exim's address testing. Each address is routed as the queue would deliver it, and
 * printed in Exim's format: the final addresses with the aliases that led to them
 * ({@code <-- address}), router, transport and hosts; or {@code is undeliverable} and
 * {@code cannot be resolved at this time} with the reason. Nothing is delivered or written.
 * Exit status as Exim's: 2 when an address is undeliverable or not an address, else 1 when one
 * cannot be resolved now, else 0.
 *
 * <p>{@code -bv} ({@link #verify}): each address checked as the rcpt ACL's
 * {@code verify = recipient} checks it (a local domain's local part must be a mailbox or an alias;
 * other domains pass unrouted), printed as Exim does: {@code ADDRESS verified} or
 * {@code ADDRESS failed to verify: REASON}; exit 2 when one failed.
 */
final class AddressTest {
  private static final String UNDELIVERABLE = " is undeliverable: ";
  private static final String UNRESOLVED = " cannot be resolved at this time: ";
  private static final String SYNTAX_ERROR = "syntax error: ";

  private static final int FAILED = 2;
  private static final int DEFERRED = 1;

  private final AddressRouting routing;
  private final PosternConfig config;
  private final PrintStream out;

  AddressTest(AddressRouting routing, PosternConfig config, PrintStream out) {
    this.routing = routing;
    this.config = config;
    this.out = out;
  }

  /** What is printed for one tested address, and its exit status. */
  private record Report(String text, int status) {
  }

  /** Routes every address (concurrently), prints the results in the order given, and yields the exit status. */
  Future<Integer> run(List<String> addresses) {
    List<Future<Report>> reports = new ArrayList<>();
    for (String a : addresses) {
      try {
        Envelope.Recipient recipient = recipient(config, a);
        reports.add(routing.route(config, recipient).map(outcomes -> report(recipient.address(), outcomes)));
      } catch (MailPathException e) {
        reports.add(Future.succeededFuture(new Report(SYNTAX_ERROR + e.getMessage() + " in '" + a + "'", FAILED)));
      }
    }
    return Future.all(reports).map(v -> {
      int status = 0;
      for (Future<Report> r : reports) {
        out.println(r.result().text());
        status = Math.max(status, r.result().status());
      }
      out.flush();
      return status;
    });
  }

  /** {@code -bv}: prints one line per address in the order given; yields the exit status. */
  static int verify(PosternConfig config, PrintStream out, List<String> addresses) {
    int status = 0;
    for (String a : addresses) {
      try {
        Envelope.Recipient r = recipient(config, a);
        String failure = VerifyRecipientCondition.failure(config, r.localPart(), r.domain());
        out.println(r.address() + (failure == null ? " verified" : " failed to verify: " + failure));
        status = failure == null ? status : FAILED;
      } catch (MailPathException e) {
        out.println(SYNTAX_ERROR + e.getMessage() + " in '" + a + "'");
        status = FAILED;
      }
    }
    out.flush();
    return status;
  }

  /**
   * The address as RCPT TO would take it; one without a domain is qualified with
   * {@code primary_hostname}, as Exim's {@code -bt} qualifies with its {@code qualify_recipient}.
   */
  private static Envelope.Recipient recipient(PosternConfig config, String argument) throws MailPathException {
    String bare = argument.startsWith("<") && argument.endsWith(">") ? argument.substring(1, argument.length() - 1)
        : argument;
    if (bare.indexOf('@') < 0) {
      bare += "@" + config.primaryHostname();
    }
    MailPath path = MailPath.parse("<" + bare + ">", false);
    if (!path.parameters().isEmpty()) {
      throw new MailPathException(MailPathException.Kind.SYNTAX, "unexpected text after address");
    }
    return new Envelope.Recipient(path.address(), path.dequotedLocalPart(), path.domain(),
        Envelope.Recipient.State.PENDING);
  }

  /**
   * One address's outcomes in Exim's order: failures, then local, then remote deliveries. None
   * when its aliases lead only back to addresses already routed: delivery drops those, Exim calls
   * that discarded.
   */
  private static Report report(String address, List<Outcome> outcomes) {
    if (outcomes.isEmpty()) {
      return new Report("mail to " + address + " is discarded", 0);
    }
    int status = 0;
    List<Outcome> ordered = new ArrayList<>(outcomes);
    ordered.sort(Comparator.comparingInt(AddressTest::rank));
    StringBuilder sb = new StringBuilder();
    for (Outcome o : ordered) {
      if (sb.length() > 0) {
        sb.append('\n');
      }
      sb.append(o.address());
      if (o instanceof AddressRouting.Undeliverable u) {
        sb.append(UNDELIVERABLE).append(u.reason());
        status = FAILED;
      } else if (o instanceof AddressRouting.Unresolved u) {
        sb.append(UNRESOLVED).append(u.reason());
        status = Math.max(status, DEFERRED);
      }
      o.parents().forEach(p -> sb.append("\n    <-- ").append(p));
      if (o instanceof AddressRouting.Routed r) {
        sb.append("\n  router = ").append(r.router()).append(", transport = ").append(r.transport());
        hosts(sb, r);
      }
    }
    return new Report(sb.toString(), status);
  }

  private static int rank(Outcome o) {
    return o instanceof AddressRouting.Routed r ? (r.hosts().isEmpty() ? 1 : 2) : 0;
  }

  /**
   * Exim's host lines: names and bracketed addresses padded to line up, then the port when it is
   * not the transport's. Exim's {@code MX=} is left out: the routed hosts no longer carry their
   * MX preference (their order does).
   */
  private static void hosts(StringBuilder sb, AddressRouting.Routed r) {
    int nameWidth = 0;
    int addressWidth = 0;
    for (RemoteHost h : r.hosts()) {
      nameWidth = Math.max(nameWidth, h.nameOrAddress().length());
      addressWidth = Math.max(addressWidth, h.address().length());
    }
    for (RemoteHost h : r.hosts()) {
      sb.append("\n  host ").append(pad(h.nameOrAddress(), nameWidth)).append(" [").append(h.address()).append(']')
          .append(" ".repeat(addressWidth - h.address().length()));
      if (h.port() != r.transportPort()) {
        sb.append(" port=").append(h.port());
      }
    }
  }

  private static String pad(String s, int width) {
    return s + " ".repeat(width - s.length());
  }
}
