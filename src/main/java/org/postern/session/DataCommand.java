package org.postern.session;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import org.postern.bus.AclVerdict;
import org.postern.bus.AclStage;
import org.postern.bus.SessionResponse;
import org.postern.smtp.Replies;
import org.postern.smtp.SmtpReply;
import org.postern.spool.MessageIds;

import java.time.ZonedDateTime;

/**
 * DATA (RFC 5321 4.1.1.4): after the predata ACL, the 354 reply and the facts the listener needs to
 * stream the content into the spool: the message id, the Received header and the size limit.
 */
final class DataCommand extends PolicedCommand<String, Transaction> implements SmtpCommand {
  private static final SmtpReply NO_RECIPIENTS = Replies.BAD_SEQUENCE.withText("No valid recipients");

  DataCommand() {
    super(AclStage.PREDATA, true);
  }

  @Override
  Parsed<Transaction> parse(SmtpSession session, String argument) {
    if (!argument.isBlank()) {
      return Parsed.reply(Replies.SYNTAX_ERROR.withText("DATA takes no argument"));
    }
    SmtpReply outOfSequence = sequenceError(session);
    if (outOfSequence != null) {
      return Parsed.response(SessionResponse.reply(outOfSequence).syncPoint(true));
    }
    return Parsed.request(session.transaction());
  }

  /**
   * What DATA and the first BDAT of a message answer when the transaction has no sender or no
   * recipient; null when the message may start.
   */
  static SmtpReply sequenceError(SmtpSession session) {
    Transaction t = session.transaction();
    if (!t.hasSender()) {
      return session.greeted() ? Replies.BAD_SEQUENCE.withText("MAIL first") : MailCommand.HELO_FIRST;
    }
    if (t.acceptedCount() == 0) {
      return NO_RECIPIENTS;
    }
    return null;
  }

  @Override
  JsonObject variables(SmtpSession session, Transaction t) {
    return session.variablesWithRecipients();
  }

  @Override
  Future<SessionResponse> accepted(SmtpSession session, Transaction t, AclVerdict verdict) {
    SessionResponse.DataStart data = begin(session, t);
    return Future.succeededFuture(SessionResponse.startData(Replies.START_DATA, data).syncPoint(true));
  }

  /**
   * The message starts (the 354 of DATA, the first chunk of BDAT): its id, and what the listener
   * writes before the content (the Received header and the headers ACLs added so far).
   */
  static SessionResponse.DataStart begin(SmtpSession session, Transaction t) {
    String id = MessageIds.next();
    t.messageId(id);
    session.inData(true);
    String single = t.recipients().size() == 1 ? t.recipients().get(0).address() : null;
    String prefix = ReceivedHeader.build(session, id, single, ZonedDateTime.now()) + headerBlock(t.addedHeaders());
    if (session.filtering()) {
      t.prefixLength(prefix.getBytes(java.nio.charset.StandardCharsets.UTF_8).length);
    }
    return new SessionResponse.DataStart(id, prefix, session.config().messageSizeLimit(),
        session.config().bareLineEnds() == org.postern.config.BareLineEnds.NORMALIZE);
  }

  /** Header lines as they go into the message: each ended by CRLF. */
  static String headerBlock(java.util.List<String> lines) {
    StringBuilder sb = new StringBuilder();
    lines.forEach(line -> sb.append(line).append("\r\n"));
    return sb.toString();
  }
}
