package org.postern.session;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import org.postern.bus.AclStage;
import org.postern.bus.AclVerdict;
import org.postern.bus.SessionAction;
import org.postern.bus.SessionResponse;
import org.postern.smtp.Replies;
import org.postern.smtp.SmtpReply;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * BDAT (RFC 3030): a message sent in chunks of exact octet counts, with no dot processing. The
 * first chunk of a message is put to the predata ACL, as Exim does; the chunks then stream into
 * the spool through the listener's DATA path, and the end of {@code BDAT ... LAST} is the end of
 * DATA ({@link EndOfData}: the mime and data ACLs, the filters, the commit).
 *
 * <p>Whatever the verdict, the chunk that follows a command with a valid size is read, so the
 * stream stays in step (RFC 3030 2: a refused BDAT's chunk is still consumed, and pipelined chunks
 * after a failed one are read and dropped). Only a size that cannot be read leaves the bytes to be
 * read as commands, as they would be by a server that does not know BDAT at all; so does BDAT
 * from a client that was not offered CHUNKING (Exim: 503 "BDAT command used when CHUNKING not
 * advertised").
 */
final class BdatCommand extends PolicedCommand<String, BdatCommand.Chunk> implements SmtpCommand {
  /**
   * RFC 3030: {@code chunk-size ::= 1*DIGIT}. Eighteen digits always fit a {@code long}: a longer
   * size is refused rather than wrapped (Exim's 2020 fix for sizes overflowing its integer).
   */
  private static final Pattern ARGUMENT = Pattern.compile("([0-9]{1,18})(?: (LAST))?", Pattern.CASE_INSENSITIVE);
  static final SmtpReply NOT_ADVERTISED = Replies.BAD_SEQUENCE.withText("BDAT command used when CHUNKING not advertised");
  static final SmtpReply BAD_SIZE = Replies.SYNTAX_ERROR.withText("BDAT needs a chunk size (up to 18 digits), optionally followed by LAST");
  /** RFC 3030 4.2 and Exim: after a non-LAST chunk, the message goes on or is abandoned. */
  static final SmtpReply ONLY_BDAT = Replies.BAD_SEQUENCE.withText("only BDAT, RSET, NOOP or QUIT may follow a BDAT chunk");

  /** The first chunk of a message, waiting for the predata ACL. */
  record Chunk(long octets, boolean last) {
  }

  BdatCommand() {
    super(AclStage.PREDATA, false);
  }

  @Override
  Parsed<Chunk> parse(SmtpSession session, String argument) {
    if (!session.chunkingAdvertised()) {
      return Parsed.reply(NOT_ADVERTISED);
    }
    Matcher m = ARGUMENT.matcher(argument.strip());
    if (!m.matches()) {
      return Parsed.reply(BAD_SIZE);
    }
    long octets = Long.parseLong(m.group(1));
    boolean last = m.group(2) != null;
    Transaction t = session.transaction();
    if (t.chunked()) {
      return Parsed.response(SessionResponse.chunk(received(octets), new SessionResponse.Chunk(octets, last, true, null)));
    }
    SmtpReply outOfSequence = DataCommand.sequenceError(session);
    if (outOfSequence != null) {
      return Parsed.response(dropChunk(outOfSequence, octets, last, null));
    }
    return Parsed.request(new Chunk(octets, last));
  }

  @Override
  JsonObject variables(SmtpSession session, Chunk chunk) {
    return session.variablesWithRecipients();
  }

  @Override
  Future<SessionResponse> accepted(SmtpSession session, Chunk chunk, AclVerdict verdict) {
    Transaction t = session.transaction();
    SessionResponse.DataStart start = DataCommand.begin(session, t);
    t.chunked(true);
    return Future.succeededFuture(SessionResponse.chunk(received(chunk.octets()),
        new SessionResponse.Chunk(chunk.octets(), chunk.last(), true, start)));
  }

  /** The predata ACL refused the message: its chunk is read and dropped, then the refusal goes out. */
  @Override
  SessionResponse refusalResponse(Chunk chunk, SmtpReply refusal, String log) {
    return dropChunk(refusal, chunk.octets(), chunk.last(), log);
  }

  /** True for the commands that may come between the chunks of one message. */
  static boolean allowedBetweenChunks(String verb) {
    return switch (verb.toUpperCase(Locale.ROOT)) {
      case "BDAT", "RSET", "NOOP", "QUIT" -> true;
      default -> false;
    };
  }

  /** Exim's reply to a chunk that is not the last. */
  private static SmtpReply received(long octets) {
    return Replies.OK.withText(octets + " byte chunk received");
  }

  private static SessionResponse dropChunk(SmtpReply reply, long octets, boolean last, String log) {
    return new SessionResponse(reply, SessionAction.CHUNK, false,
        new SessionResponse.Chunk(octets, last, false, null), log);
  }
}
