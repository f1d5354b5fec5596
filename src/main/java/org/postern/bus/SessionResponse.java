package org.postern.bus;

import io.vertx.core.json.JsonObject;
import org.postern.smtp.SmtpReply;
import org.postern.spool.Envelope;

/**
 * The reply to {@code postern.session.open}, {@code command} and {@code data}: the SMTP reply to
 * write, the action the listener takes, and the facts that action needs.
 *
 * @param syncPoint the command must have been the last of its pipelining group: any input already
 *                  waiting is a synchronization error (Exim's {@code smtp_enforce_sync})
 * @param facts     what the action needs: {@link DataStart} for {@link SessionAction#DATA}, {@link Chunk} for {@link SessionAction#CHUNK},
 *                  {@link Commit} for {@link SessionAction#COMMIT}, {@link Closing} for
 *                  {@link SessionAction#CLOSE} (derived when null: 221 is QUIT, anything else an ACL
 *                  drop), optionally {@link LineLimit} for {@link SessionAction#CONTINUE}; else null
 * @param log       a main-log line to write once the action succeeded (e.g. the {@code <=} line)
 */
public record SessionResponse(SmtpReply reply, SessionAction action, boolean syncPoint, Facts facts, String log) {

  /** What an action needs besides the reply; each kind belongs to one action. */
  public sealed interface Facts permits DataStart, Chunk, Commit, Closing, LineLimit {
  }

  /**
   * DATA accepted (354): where the content goes and how it is read.
   *
   * @param messageId             the spool id of the message to be
   * @param received              the Received header and the headers ACLs added so far, CRLF-ended,
   *                              written before the content
   * @param sizeLimit             {@code message_size_limit} in octets
   * @param normalizeBareLineEnds turn bare LF/CR into CRLF ({@code bare_line_ends: normalize})
   */
  public record DataStart(String messageId, String received, long sizeLimit, boolean normalizeBareLineEnds)
      implements Facts {
  }

  /**
   * A BDAT command (RFC 3030): the chunk of {@code octets} that follows it is read before the reply
   * is written, whatever the verdict, so the stream stays in step.
   *
   * @param octets the chunk size the command announced
   * @param last   {@code BDAT ... LAST}: the message ends with this chunk
   * @param store  the chunk is part of the message; false when the command was refused (the chunk
   *               is read and dropped, and the reply is the refusal)
   * @param start  for the first chunk of a message, where it goes (as DATA's 354 gives); else null
   */
  public record Chunk(long octets, boolean last, boolean store, DataStart start) implements Facts {
    public Chunk {
      if (octets < 0) {
        throw new IllegalArgumentException("negative chunk size " + octets);
      }
    }
  }

  /**
   * End of DATA accepted: the envelope to commit the spooled content with, before the 250.
   *
   * @param lateHeaders headers added by the data ACL or by submission mode, CRLF-ended
   * @param queueOnly   queue the message without a delivery attempt ({@code control = queue},
   *                    {@code freeze})
   */
  public record Commit(Envelope envelope, String lateHeaders, boolean queueOnly) implements Facts {
  }

  /** Why the session ends: what {@code postern.session.close} will carry. */
  public record Closing(CloseReason reason) implements Facts {
  }

  /** The longest input line accepted from now on (RFC 4954: 12288 octets inside a SASL exchange). */
  public record LineLimit(int octets) implements Facts {
  }

  public SessionResponse {
    if (action == SessionAction.CLOSE && facts == null) {
      facts = new Closing(reply.code() == 221 ? CloseReason.QUIT : CloseReason.ACL_DROP);
    }
    boolean fits = switch (action) {
      case DATA -> facts instanceof DataStart;
      case CHUNK -> facts instanceof Chunk;
      case COMMIT -> facts instanceof Commit;
      case CLOSE -> facts instanceof Closing;
      case CONTINUE -> facts == null || facts instanceof LineLimit;
      default -> facts == null;
    };
    if (!fits) {
      throw new IllegalArgumentException(action + " with " + facts);
    }
  }

  public static SessionResponse reply(SmtpReply reply) {
    return new SessionResponse(reply, SessionAction.CONTINUE, false, null, null);
  }

  /** Write the reply and close: a QUIT for 221, else an ACL's drop. */
  public static SessionResponse close(SmtpReply reply) {
    return new SessionResponse(reply, SessionAction.CLOSE, false, null, null);
  }

  public static SessionResponse close(SmtpReply reply, CloseReason reason) {
    return new SessionResponse(reply, SessionAction.CLOSE, false, new Closing(reason), null);
  }

  public static SessionResponse startData(SmtpReply reply, DataStart data) {
    return new SessionResponse(reply, SessionAction.DATA, false, data, null);
  }

  public static SessionResponse chunk(SmtpReply reply, Chunk chunk) {
    return new SessionResponse(reply, SessionAction.CHUNK, false, chunk, null);
  }

  public static SessionResponse commit(SmtpReply reply, Commit commit, String log) {
    return new SessionResponse(reply, SessionAction.COMMIT, false, commit, log);
  }

  public SessionResponse syncPoint(boolean sync) {
    return new SessionResponse(reply, action, sync, facts, log);
  }

  public SessionResponse withLog(String line) {
    return new SessionResponse(reply, action, syncPoint, facts, line);
  }

  public SessionResponse withLineLimit(int octets) {
    return new SessionResponse(reply, action, syncPoint, new LineLimit(octets), log);
  }

  /** The DATA facts; {@link ClassCastException} for another action. */
  public DataStart dataStart() {
    return (DataStart) facts;
  }

  /** The BDAT facts; {@link ClassCastException} for another action. */
  public Chunk chunk() {
    return (Chunk) facts;
  }

  /** The commit facts; {@link ClassCastException} for another action. */
  public Commit commit() {
    return (Commit) facts;
  }

  /** Why a {@link SessionAction#CLOSE} closes; {@link ClassCastException} for another action. */
  public CloseReason closeReason() {
    return ((Closing) facts).reason();
  }

  /** The new input line limit, or 0 to keep the current one. */
  public int lineLimit() {
    return facts instanceof LineLimit l ? l.octets() : 0;
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("reply", reply.toJson()).put("action", action.wire());
    if (syncPoint) {
      json.put("sync", true);
    }
    if (log != null) {
      json.put("log", log);
    }
    if (facts instanceof DataStart d) {
      json.put("data", dataJson(d));
    } else if (facts instanceof Chunk c) {
      JsonObject chunk = new JsonObject().put("octets", c.octets()).put("last", c.last()).put("store", c.store());
      if (c.start() != null) {
        chunk.put("data", dataJson(c.start()));
      }
      json.put("chunk", chunk);
    } else if (facts instanceof Commit c) {
      json.put("commit", new JsonObject().put("envelope", c.envelope().toJson())
          .put("late_headers", c.lateHeaders()).put("queue_only", c.queueOnly()));
    } else if (facts instanceof Closing c) {
      json.put("close_reason", c.reason().wire());
    } else if (facts instanceof LineLimit l) {
      json.put("line_limit", l.octets());
    }
    return json;
  }

  public static SessionResponse fromJson(JsonObject json) {
    SessionAction action = SessionAction.fromWire(json.getString("action", "continue"));
    JsonObject data = json.getJsonObject("data");
    JsonObject chunk = json.getJsonObject("chunk");
    JsonObject commit = json.getJsonObject("commit");
    Facts facts = null;
    if (data != null) {
      facts = dataStart(data);
    } else if (chunk != null) {
      JsonObject start = chunk.getJsonObject("data");
      facts = new Chunk(chunk.getLong("octets", 0L), chunk.getBoolean("last", false), chunk.getBoolean("store", false),
          start == null ? null : dataStart(start));
    } else if (commit != null) {
      facts = new Commit(Envelope.fromJson(commit.getJsonObject("envelope")), commit.getString("late_headers", ""),
          commit.getBoolean("queue_only", false));
    } else if (json.containsKey("close_reason")) {
      facts = new Closing(CloseReason.fromWire(json.getString("close_reason")));
    } else if (json.containsKey("line_limit")) {
      facts = new LineLimit(json.getInteger("line_limit"));
    }
    return new SessionResponse(SmtpReply.fromJson(json.getJsonObject("reply")), action,
        json.getBoolean("sync", false), facts, json.getString("log"));
  }

  private static JsonObject dataJson(DataStart d) {
    return new JsonObject().put("message_id", d.messageId()).put("received", d.received())
        .put("size_limit", d.sizeLimit()).put("normalize_bare_line_ends", d.normalizeBareLineEnds());
  }

  private static DataStart dataStart(JsonObject data) {
    return new DataStart(data.getString("message_id"), data.getString("received", ""),
        data.getLong("size_limit", 0L), data.getBoolean("normalize_bare_line_ends", false));
  }
}
