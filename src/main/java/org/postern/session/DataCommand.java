package org.postern.session;

import io.vertx.core.Future;
import org.postern.bus.AclVerdict;
import org.postern.bus.SessionResponse;
import org.postern.smtp.Replies;
import org.postern.smtp.SmtpReply;
import org.postern.spool.MessageIds;

import java.time.ZonedDateTime;

/**
 * DATA (RFC 5321 4.1.1.4): after the predata ACL, the 354 reply and the facts the listener needs to
 * stream the content into the spool: the message id, the Received header and the size limit.
 */
final class DataCommand implements SmtpCommand {
  private static final SmtpReply NO_RECIPIENTS = Replies.BAD_SEQUENCE.withText("No valid recipients");

  @Override
  public Future<SessionResponse> execute(SmtpSession session, String argument) {
    if (!argument.isBlank()) {
      return MailCommand.done(Replies.SYNTAX_ERROR.withText("DATA takes no argument"));
    }
    Transaction t = session.transaction();
    if (!t.hasSender()) {
      return Future.succeededFuture(SessionResponse.reply(session.greeted()
          ? Replies.BAD_SEQUENCE.withText("MAIL first") : MailCommand.HELO_FIRST).syncPoint(true));
    }
    if (t.acceptedCount() == 0) {
      return Future.succeededFuture(SessionResponse.reply(NO_RECIPIENTS).syncPoint(true));
    }
    return session.check("predata", session.variablesWithRecipients()).map(verdict -> {
      if (!verdict.accepted()) {
        SmtpReply refusal = SmtpSession.refusal("predata", verdict);
        return (verdict.type() == AclVerdict.Type.DROP ? SessionResponse.close(refusal)
            : SessionResponse.reply(refusal)).syncPoint(true);
      }
      String id = MessageIds.next();
      t.messageId(id);
      session.inData(true);
      String single = t.recipients().size() == 1 ? t.recipients().get(0).address() : null;
      SessionResponse.DataStart data = new SessionResponse.DataStart(id,
          ReceivedHeader.build(session, id, single, ZonedDateTime.now()) + headerBlock(t.addedHeaders()),
          session.config().messageSizeLimit(),
          session.config().bareLineEnds() == org.postern.config.BareLineEnds.NORMALIZE);
      return SessionResponse.startData(Replies.START_DATA, data).syncPoint(true);
    });
  }

  /** Header lines as they go into the message: each ended by CRLF. */
  static String headerBlock(java.util.List<String> lines) {
    StringBuilder sb = new StringBuilder();
    lines.forEach(line -> sb.append(line).append("\r\n"));
    return sb.toString();
  }
}
