package org.postern.bus;

import io.vertx.core.json.JsonObject;

/**
 * What a session asks a session filter at a {@link FilterHook}, in JSON
 * ({@code docs/plugins.md}, "Session filters"): the session, the hook, the session's variables
 * and, per hook, the command's argument or the spooled message. The content never travels on the
 * bus: at {@link FilterHook#DATA} the filter reads {@code data_file} (off the event loop) and may
 * rewrite it in place (atomically) before it answers.
 *
 * @param session      the session id (the same for every hook of a connection)
 * @param hook         where the session is
 * @param variables    the session's {@code $variables} at that point
 * @param argument     HELO name, {@code <sender> params}, {@code <recipient>}; null elsewhere
 * @param messageId    at DATA: the spool id
 * @param dataFile     at DATA: path of the spool {@code -D} file (headers and body, CRLF, not dot-stuffed)
 * @param prefixLength at DATA: bytes at the start of the file that Postern wrote (its Received:
 *                     header and headers ACLs added before DATA)
 * @param lateHeaders  at DATA: header lines (CRLF-ended) that go right after the prefix but are
 *                     not in the file yet (data ACL {@code add_header}, {@code control = submission});
 *                     a filter that rewrites the file puts them there, others leave them to Postern
 */
public record FilterRequest(String session, FilterHook hook, JsonObject variables, String argument,
                            String messageId, String dataFile, int prefixLength, String lateHeaders)
    implements BusRecord {

  public static FilterRequest of(String session, FilterHook hook, JsonObject variables, String argument) {
    return new FilterRequest(session, hook, variables, argument, null, null, 0, null);
  }

  @Override
  public JsonObject toJson() {
    JsonObject j = new JsonObject().put("session", session).put("hook", hook.wire())
        .put("variables", variables == null ? new JsonObject() : variables);
    if (argument != null) {
      j.put("argument", argument);
    }
    if (messageId != null) {
      j.put("message_id", messageId).put("data_file", dataFile).put("prefix_length", prefixLength)
          .put("late_headers", lateHeaders == null ? "" : lateHeaders);
    }
    return j;
  }

  public static FilterRequest fromJson(JsonObject j) {
    return new FilterRequest(j.getString("session"), FilterHook.fromWire(j.getString("hook")),
        j.getJsonObject("variables", new JsonObject()), j.getString("argument"), j.getString("message_id"),
        j.getString("data_file"), j.getInteger("prefix_length", 0), j.getString("late_headers"));
  }
}
