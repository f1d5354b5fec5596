package org.postern.session;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.postern.bus.SessionAction;
import org.postern.bus.SessionData;
import org.postern.bus.SessionResponse;
import org.postern.policy.AclControl;
import org.postern.bus.AclVerdict;
import org.postern.bus.AclStage;
import org.postern.bus.FilterHook;
import org.postern.bus.FilterRequest;
import org.postern.bus.FilterVerdict;
import org.postern.config.BareLineEnds;
import org.postern.smtp.MailPath;
import org.postern.smtp.MailPathException;
import org.postern.smtp.Replies;
import org.postern.smtp.SmtpReply;
import org.postern.smtp.TlsRequiredField;
import org.postern.spool.Envelope;
import org.postern.spool.Spool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/**
 * The final dot (RFC 2920 3.1: message content may begin a pipelined group, so none of these
 * replies is a synchronization point): decides on the spooled content (size and bare line ends as
 * its syntax step, then the mime and data ACLs) and, when it is accepted, hands the listener the
 * envelope to commit before the 250. The transaction ends here whatever the outcome.
 */
final class EndOfData extends PolicedCommand<SessionData, EndOfData.Content> {
  private static final Logger LOG = LoggerFactory.getLogger(EndOfData.class);
  /** Exim's and Postfix's answer to a message that has travelled too far: refused, so nobody gets a bounce. */
  static final SmtpReply MAIL_LOOP = SmtpReply.of(554, "5.4.0", "Too many \"Received\" headers - suspected mail loop");

  EndOfData() {
    super(AclStage.DATA, false);
  }

  /**
   * The message as the listener received it, and the transaction it ends.
   *
   * @param addedBefore how many ACL headers the transaction had before the mime and data ACLs
   */
  record Content(Transaction transaction, String id, long size, String headers, String messageIdHeader,
                 JsonArray mimeParts, int addedBefore) {
  }

  /**
   * @param facts {@code {message_id, size, too_big, bare_lf, bare_cr, headers, message_id_header,
   *              mime_parts, received_headers}} from the listener
   */
  @Override
  Parsed<Content> parse(SmtpSession session, SessionData facts) {
    Transaction t = session.transaction();
    if (!session.inData() || !facts.messageId().equals(t.messageId())) {
      return Parsed.response(SessionResponse.reply(Replies.BAD_SEQUENCE).syncPoint(true));
    }
    long size = facts.size();
    if (facts.tooBig()) {
      return refuse(session, Replies.MESSAGE_TOO_BIG, "message too big: read=" + size + " max="
          + session.config().messageSizeLimit());
    }
    boolean bareEnds = facts.bareLf() || facts.bareCr();
    if (bareEnds && session.config().bareLineEnds() == BareLineEnds.REJECT) {
      return refuse(session, Replies.BARE_LF_DATA, "message has bare LF/CR line ends");
    }
    // Exim's received_headers_max counts the Received: Postern adds too, as the queue's check does.
    if (facts.receivedHeaders() + 1 > session.config().delivery().receivedHeadersMax()) {
      return refuse(session, MAIL_LOOP, MAIL_LOOP.text());
    }
    return Parsed.request(new Content(t, t.messageId(), size, facts.headers(),
        facts.messageIdHeader(), facts.mimeParts(), t.addedHeaders().size()));
  }

  @Override
  JsonObject variables(SmtpSession session, Content content) {
    return session.variablesWithRecipients().put("message_id", content.id()).put("message_size", content.size())
        .put("message_headers", content.headers());
  }

  /**
   * The mime ACL for each MIME part, then the data ACL; the first that does not accept decides.
   * The transaction ends here whatever the verdict.
   */
  @Override
  Future<AclVerdict> policy(SmtpSession session, Content content) {
    JsonArray parts = content.mimeParts();
    boolean mimeAsked = parts != null && !parts.isEmpty();
    // Built once for the parts and the data ACL; without parts, only if the data ACL asks for them.
    JsonObject vars = mimeAsked ? variables(session, content) : null;
    Future<AclVerdict> mime = !mimeAsked ? Future.succeededFuture(null)
        : mimeParts(session, vars, parts, 0);
    return mime.compose(refused -> refused != null ? Future.succeededFuture(refused)
            : session.check(AclStage.DATA, () -> vars != null ? vars : variables(session, content)))
        .map(verdict -> {
          // An accepted message ends the filters' transaction at their DATA hook; a refused one here.
          if (verdict.accepted() && verdict.type() != AclVerdict.Type.DISCARD) {
            session.endTransaction();
          } else {
            session.resetTransaction();
          }
          return verdict;
        });
  }

  @Override
  String refusalLog(SmtpSession session, Content content, AclVerdict verdict, SmtpReply refusal) {
    return "rejected after DATA: " + session.hostForLog() + " F=<" + sender(content.transaction()) + ">: " + refusal;
  }

  /**
   * Exim's {@code rejectlog} block after DATA: {@code Envelope-from:}, {@code Envelope-to:}, then
   * each header line with Exim's one-letter flag from the spool's {@code -H} file ({@code P}
   * Received, {@code F} From, {@code T} To, {@code C} Cc, {@code B} Bcc, {@code R} Reply-To,
   * {@code S} Sender, {@code I} Message-ID, a space for the others; continuation lines indented).
   */
  @Override
  String rejectLogDetail(SmtpSession session, Content content) {
    StringBuilder detail = new StringBuilder("Envelope-from: <").append(sender(content.transaction())).append('>');
    String separator = "\nEnvelope-to: ";
    for (MailPath r : content.transaction().recipients()) {
      detail.append(separator).append('<').append(r.address()).append('>');
      separator = "\n    ";
    }
    for (String line : content.headers().split("\r?\n")) {
      if (line.isEmpty()) {
        continue;
      }
      boolean continuation = line.charAt(0) == ' ' || line.charAt(0) == '\t';
      detail.append('\n').append(continuation ? ' ' : headerFlag(line)).append(' ').append(line);
    }
    return detail.toString();
  }

  private static char headerFlag(String line) {
    int colon = line.indexOf(':');
    String name = (colon < 0 ? line : line.substring(0, colon)).trim().toLowerCase(java.util.Locale.ROOT);
    return switch (name) {
      case "received" -> 'P';
      case "from" -> 'F';
      case "to" -> 'T';
      case "cc" -> 'C';
      case "bcc" -> 'B';
      case "reply-to" -> 'R';
      case "sender" -> 'S';
      case "message-id" -> 'I';
      default -> ' ';
    };
  }

  /** The spooled content is removed; the session goes on. */
  @Override
  SessionAction refusalAction() {
    return SessionAction.ABORT;
  }

  @Override
  Future<SessionResponse> discarded(SmtpSession session, Content content, AclVerdict verdict) {
    String id = content.id();
    return Future.succeededFuture(new SessionResponse(okReply(id), SessionAction.DISCARD, false, null,
        id + " <= " + sender(content.transaction()) + " " + session.hostForLog() + " discarded by ACL"));
  }

  @Override
  Future<SessionResponse> accepted(SmtpSession session, Content content, AclVerdict verdict) {
    Transaction t = content.transaction();
    if (t.recipients().isEmpty()) {
      // Every recipient was discarded at RCPT: the message goes nowhere.
      session.filtersReset();
      return discarded(session, content, verdict);
    }
    if (t.isDiscardedByFilter()) {
      session.filtersReset();
      return discarded(session, content, verdict);
    }
    String id = content.id();
    List<String> late = new ArrayList<>(t.addedHeaders().subList(content.addedBefore(), t.addedHeaders().size()));
    if (t.controls().contains(AclControl.SUBMISSION)) {
      late.addAll(SubmissionHeaders.missing(content.headers(), t, id, session.config().primaryHostname()));
    }
    String lateHeaders = DataCommand.headerBlock(late);
    if (!session.filtering()) {
      return Future.succeededFuture(commit(session, content, lateHeaders, FilterVerdict.CONTINUE));
    }
    FilterRequest ask = new FilterRequest(session.id(), FilterHook.DATA, variables(session, content), null, id,
        new Spool(session.config().spoolDirectory()).dataFile(id).toString(), t.prefixLength(), lateHeaders);
    return session.filter(ask).map(f -> switch (f.type()) {
      case REJECT, TEMPFAIL -> {
        SmtpReply refusal = SmtpSession.filterRefusal(f);
        yield new SessionResponse(refusal, SessionAction.ABORT, false, null,
            logRefusal(session, content, AclVerdict.of(f.type() == FilterVerdict.Type.TEMPFAIL
                ? AclVerdict.Type.DEFER : AclVerdict.Type.DENY), refusal));
      }
      case DISCARD -> new SessionResponse(okReply(id), SessionAction.DISCARD, false, null,
          id + " <= " + sender(t) + " " + session.hostForLog() + " discarded by filter");
      default -> commit(session, content, f.edited() ? "" : lateHeaders, f);
    });
  }

  /**
   * The commit of an accepted message, with a filter's envelope changes and its quarantine
   * (Exim's freeze, as {@code control = freeze} does).
   */
  private static SessionResponse commit(SmtpSession session, Content content, String lateHeaders, FilterVerdict f) {
    Transaction t = content.transaction();
    String id = content.id();
    boolean frozenByAcl = t.controls().contains(AclControl.FREEZE);
    boolean quarantined = f.type() == FilterVerdict.Type.QUARANTINE;
    boolean frozen = frozenByAcl || quarantined;
    Envelope envelope = filtered(envelope(session, t, id, content.size(), frozen, content.headers()), f);
    session.messageAccepted();
    // Exim's K: the message came in BDAT chunks.
    String log = id + " <= " + (sender(t).isEmpty() ? "<>" : sender(t)) + " " + session.hostForLog()
        + (session.isLocal() ? "" : " I=[" + session.interfaceAddress() + "]:" + session.interfacePort())
        + " P=" + envelope.protocol() + session.tlsForLog() + (t.chunked() ? " K" : "") + " S=" + content.size()
        + messageIdForLog(content.messageIdHeader()) + (t.requireTls() ? " REQUIRETLS" : "");
    if (frozenByAcl) {
      log += "\n" + id + " frozen by ACL";
    } else if (quarantined) {
      log += "\n" + id + " frozen by filter" + (f.reason() == null ? "" : ": " + f.reason());
    }
    SessionResponse.Commit commit = new SessionResponse.Commit(envelope, lateHeaders,
        t.controls().contains(AclControl.QUEUE) || frozen);
    return SessionResponse.commit(okReply(id), commit, log);
  }

  /** A filter's changes to the envelope (a milter's change of sender, added and removed recipients). */
  private static Envelope filtered(Envelope e, FilterVerdict f) {
    if (f.sender() == null && f.addRecipients().isEmpty() && f.deleteRecipients().isEmpty()) {
      return e;
    }
    List<Envelope.Recipient> rcpts = new ArrayList<>();
    for (Envelope.Recipient r : e.recipients()) {
      if (f.deleteRecipients().stream().noneMatch(d -> d.equalsIgnoreCase(r.address()))) {
        rcpts.add(r);
      }
    }
    for (String added : f.addRecipients()) {
      try {
        MailPath p = MailPath.parse("<" + added + ">", false);
        rcpts.add(new Envelope.Recipient(p.address(), p.dequotedLocalPart(), p.domain(), Envelope.Recipient.State.PENDING));
      } catch (MailPathException bad) {
        LOG.warn("{}: a filter added recipient <{}>, which is not an address: ignored", e.id(), added);
      }
    }
    return new Envelope(e.id(), f.sender() != null ? f.sender() : e.sender(), rcpts, e.receivedAt(),
        e.hostAddress(), e.hostPort(), e.heloName(), e.protocol(), e.interfaceAddress(), e.interfacePort(),
        e.authenticatedId(), e.bodyType(), e.size(), e.frozen(), e.warningsSent(), e.dsnRet(), e.dsnEnvid(),
        e.smtpUtf8(), e.requireTls(), e.tlsRequiredNo());
  }

  /**
   * Exim's MIME ACL: once per MIME part, in order; the first part it does not accept decides for
   * the message (null when every part was accepted, and the data ACL goes on).
   */
  private static Future<AclVerdict> mimeParts(SmtpSession session, JsonObject vars, JsonArray parts, int index) {
    if (index >= parts.size()) {
      return Future.succeededFuture(null);
    }
    JsonObject part = parts.getJsonObject(index);
    JsonObject partVars = vars.copy();
    part.forEach(e -> {
      if (e.getKey().startsWith("mime_")) {
        partVars.put(e.getKey(), e.getValue());
      }
    });
    // Exim's units: the size in KB (here of the part as sent, not decoded), the anomaly level 0 or 1.
    partVars.put("mime_content_size", (part.getLong("size", 0L) + 1023) / 1024);
    partVars.put("mime_anomaly_level", part.getBoolean("anomaly", false) ? 1 : 0);
    return session.check(AclStage.MIME, () -> partVars).compose(verdict -> verdict.accepted() && verdict.type() != AclVerdict.Type.DISCARD
        ? mimeParts(session, vars, parts, index + 1) : Future.succeededFuture(verdict));
  }

  /** A message refused before any ACL: the transaction ends and the spooled content is removed. */
  private static Parsed<Content> refuse(SmtpSession session, SmtpReply reply, String why) {
    Transaction t = session.transaction();
    session.resetTransaction();
    String log = "rejected after DATA: " + session.hostForLog() + " F=<" + sender(t) + ">: " + why;
    return Parsed.response(new SessionResponse(reply, SessionAction.ABORT, false, null, log));
  }

  /** Exim's {@code id=} field: the Message-ID header, if the message has one. */
  private static String messageIdForLog(String header) {
    if (header == null || header.isEmpty()) {
      return "";
    }
    String id = header.strip();
    if (id.startsWith("<") && id.endsWith(">")) {
      id = id.substring(1, id.length() - 1);
    }
    // The same characters as the pattern [\s\p{Cntrl}] became '?' with, without compiling it per message.
    StringBuilder out = new StringBuilder(id.length() + 4).append(" id=");
    for (int i = 0; i < id.length(); i++) {
      char c = id.charAt(i);
      boolean blank = c == ' ' || c == '\t' || c == '\n' || c == 0x0B || c == '\f' || c == '\r';
      out.append(blank || c < 0x20 || c == 0x7F ? '?' : c);
    }
    return out.toString();
  }

  private static SmtpReply okReply(String id) {
    return Replies.OK.withText("OK id=" + id);
  }

  private static String sender(Transaction t) {
    return t.sender().address();
  }

  private static Envelope envelope(SmtpSession session, Transaction t, String id, long size, boolean frozen,
                                   String headers) {
    List<Envelope.Recipient> rcpts = new ArrayList<>();
    for (MailPath r : t.recipients()) {
      // Validated by RCPT: the parameters are those that were accepted.
      DsnParameters.Rcpt dsn = DsnParameters.rcpt(r.parameters()).value();
      rcpts.add(new Envelope.Recipient(r.address(), r.dequotedLocalPart(), r.domain(), Envelope.Recipient.State.PENDING,
          dsn.notifyEvents(), dsn.orcpt()));
    }
    return new Envelope(id, t.sender().address(), rcpts, System.currentTimeMillis(), session.hostAddress(),
        session.hostPort(), session.heloName(), session.protocol(t), session.interfaceAddress(),
        session.interfacePort(), null, t.bodyType(), size, frozen, 0, t.dsn().ret(), t.dsn().envid(),
        t.smtpUtf8(), t.requireTls(),
        // RFC 8689 4.1: with REQUIRETLS on MAIL the header field is ignored (and passed on as it is).
        !t.requireTls() && TlsRequiredField.saysNo(headers));
  }
}
