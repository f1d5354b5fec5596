package org.postern.bus;

import io.vertx.core.json.JsonObject;
import org.postern.smtp.SmtpReply;

/**
 * The body of a reply on {@code postern.session.*}: the reply to write, the action, and for
 * {@code data}/{@code commit} the facts the listener needs (message id, Received header, envelope).
 *
 * @param syncPoint the command must have been the last of its pipelining group: any input already
 *                  waiting is a synchronization error (Exim's {@code smtp_enforce_sync})
 * @param log       a main-log line to write once the action succeeded (e.g. the {@code <=} line)
 */
public record SessionResponse(SmtpReply reply, SessionAction action, boolean syncPoint, JsonObject extra,
                              String log) {

  public static SessionResponse reply(SmtpReply reply) {
    return new SessionResponse(reply, SessionAction.CONTINUE, false, null, null);
  }

  public static SessionResponse close(SmtpReply reply) {
    return new SessionResponse(reply, SessionAction.CLOSE, false, null, null);
  }

  public SessionResponse syncPoint(boolean sync) {
    return new SessionResponse(reply, action, sync, extra, log);
  }

  public SessionResponse withLog(String line) {
    return new SessionResponse(reply, action, syncPoint, extra, line);
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("reply", reply.render()).put("code", reply.code())
        .put("action", action.wire());
    if (syncPoint) {
      json.put("sync", true);
    }
    if (extra != null) {
      json.put("extra", extra);
    }
    if (log != null) {
      json.put("log", log);
    }
    return json;
  }
}
