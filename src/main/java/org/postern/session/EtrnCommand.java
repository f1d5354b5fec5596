package org.postern.session;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import org.postern.bus.AclVerdict;
import org.postern.bus.AclStage;
import org.postern.bus.Addresses;
import org.postern.bus.QueueFlushReply;
import org.postern.bus.QueueFlushRequest;
import org.postern.bus.SessionResponse;
import org.postern.smtp.Replies;
import org.postern.smtp.SmtpReply;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.regex.Pattern;

/**
 * ETRN (RFC 1985): after the etrn ACL accepts, asks the queue ({@link Addresses#QUEUE_FLUSH},
 * {@code {domain, subdomains?}}) to deliver what waits for the node, without waiting for those
 * deliveries. {@code ETRN example.org} is the domain, {@code ETRN @example.org} the domain and its
 * subdomains; {@code #queue} names (RFC 1985 5.2) and address literals are not supported (459).
 * The queue's answer decides the reply: 250 when it started deliveries, 251 when nothing waited,
 * 458 when it did not answer in time. The request is asynchronous: the session never blocks.
 */
final class EtrnCommand extends PolicedCommand<String, EtrnCommand.Request> implements SmtpCommand {
  private static final Logger LOG = LoggerFactory.getLogger(EtrnCommand.class);
  private static final Pattern DOMAIN = Pattern.compile(
      "[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\\.?");
  private static final Pattern QUEUE_NAME = Pattern.compile("[\\x21-\\x7e]+");
  private static final Pattern ADDRESS_LITERAL = Pattern.compile("\\[[\\x21-\\x5a\\x5e-\\x7e]+]");

  private final Vertx vertx;
  private final DeliveryOptions options;

  /** {@code timeoutMs}: how long the client waits at most for the queue's answer. */
  EtrnCommand(Vertx vertx, long timeoutMs) {
    super(AclStage.ETRN, true);
    this.vertx = vertx;
    this.options = new DeliveryOptions().setSendTimeout(timeoutMs).setLocalOnly(true);
  }

  /** What the argument asks for: a domain (maybe with subdomains), a queue name or an address literal. */
  enum Form { DOMAIN, SUBDOMAINS, QUEUE_NAME, ADDRESS_LITERAL }

  /** The argument as given, what form it has and the node it names (without {@code @} or {@code #}). */
  record Request(String argument, Form form, String node) {
  }

  @Override
  Parsed<Request> parse(SmtpSession session, String argument) {
    String arg = argument.strip();
    if (arg.isEmpty()) {
      return Parsed.reply(Replies.SYNTAX_ERROR.withText("ETRN requires a node name"));
    }
    if (session.transaction().hasSender()) {
      return Parsed.reply(Replies.BAD_SEQUENCE.withText("ETRN not permitted inside a transaction"));
    }
    Form form = formOf(arg);
    if (form == null) {
      return Parsed.reply(Replies.SYNTAX_ERROR.withText("Invalid node name: " + arg));
    }
    return Parsed.request(new Request(arg, form, form == Form.DOMAIN ? arg : arg.substring(1)));
  }

  @Override
  JsonObject variables(SmtpSession session, Request etrn) {
    return session.variables().put("domain", etrn.node()).put("etrn_argument", etrn.argument());
  }

  @Override
  String refusalLog(SmtpSession session, Request etrn, AclVerdict verdict, SmtpReply refusal) {
    return session.hostForLog() + " " + rejected(verdict) + " ETRN " + etrn.argument() + ": " + refusal.text();
  }

  @Override
  Future<SessionResponse> accepted(SmtpSession session, Request etrn, AclVerdict verdict) {
    String arg = etrn.argument();
    Future<SmtpReply> reply = switch (etrn.form()) {
      case QUEUE_NAME -> Future.succeededFuture(Replies.ETRN_NODE_NOT_ALLOWED.withText(
          "Node " + arg + " not allowed: queue names are not supported"));
      case ADDRESS_LITERAL -> Future.succeededFuture(Replies.ETRN_NODE_NOT_ALLOWED.withText(
          "Node " + arg + " not allowed: address literals are not supported"));
      default -> session.isHostCheck()
          ? Future.succeededFuture(Replies.ETRN_STARTED.withText("Host checking: no queue run for node " + arg))
          : flush(session, arg, etrn.node(), etrn.form() == Form.SUBDOMAINS);
    };
    return reply.map(SessionResponse::reply);
  }

  private static Form formOf(String arg) {
    if (arg.startsWith("#")) {
      return QUEUE_NAME.matcher(arg.substring(1)).matches() ? Form.QUEUE_NAME : null;
    }
    if (arg.startsWith("@")) {
      return DOMAIN.matcher(arg.substring(1)).matches() ? Form.SUBDOMAINS : null;
    }
    if (ADDRESS_LITERAL.matcher(arg).matches()) {
      return Form.ADDRESS_LITERAL;
    }
    return DOMAIN.matcher(arg).matches() && arg.length() <= 255 ? Form.DOMAIN : null;
  }

  private Future<SmtpReply> flush(SmtpSession session, String arg, String domain, boolean subdomains) {
    String bare = domain.endsWith(".") ? domain.substring(0, domain.length() - 1) : domain;
    QueueFlushRequest request = new QueueFlushRequest(bare, subdomains, false, List.of(), false, false);
    // Clustered, the messages for the domain may be on any node: every node runs its part.
    String queue = vertx.isClustered() ? Addresses.CLUSTER_QUEUE_FLUSH : Addresses.QUEUE_FLUSH;
    return vertx.eventBus().<JsonObject>request(queue, request.toJson(), options)
        .map(reply -> QueueFlushReply.fromJson(reply.body()).started() > 0
            ? Replies.ETRN_STARTED.withText("Queuing for node " + arg + " started")
            : Replies.ETRN_NOTHING_WAITING.withText("OK, no messages waiting for node " + arg))
        .otherwise(e -> {
          LOG.warn("{}: ETRN {}: the queue did not answer: {}", session.id(), arg, e.getMessage());
          return Replies.ETRN_UNABLE.withText("Unable to queue messages for node " + arg);
        });
  }
}
