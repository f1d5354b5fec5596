package org.postern.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Locale;

/**
 * A session filter's answer at a {@link FilterHook}, in JSON ({@code docs/plugins.md}, "Session
 * filters"). {@code continue} lets the session reply as its ACL decided; the others refuse with
 * the filter's reply (code, enhanced code and text) when it gave one of the right class, else the
 * stage's default. At DATA a filter may also have rewritten the data file ({@code edited}: the
 * late headers are in it now), changed the envelope, or asked for the message to be frozen.
 *
 * @param type             what the session does
 * @param code             the reply code the filter chose, or null
 * @param enhanced         its enhanced status code (RFC 3463), or null
 * @param text             its reply text, or null
 * @param reason           why: a {@code quarantine} reason, or what went wrong, for the main log; may be null
 * @param edited           at DATA: the data file was rewritten, late headers included
 * @param sender           at DATA: the new envelope sender ({@code ""} for {@code <>}), or null to keep it
 * @param addRecipients    at DATA: envelope recipients to add
 * @param deleteRecipients at DATA: envelope recipients to remove
 */
public record FilterVerdict(Type type, Integer code, String enhanced, String text, String reason, boolean edited,
                            String sender, List<String> addRecipients, List<String> deleteRecipients)
    implements BusRecord {

  /** What the session does with the command or the message. */
  public enum Type {
    /** Go on as the ACL decided. */
    CONTINUE,
    /** 5xx. */
    REJECT,
    /** 4xx. */
    TEMPFAIL,
    /** Accept as far as the client sees, then drop (the message, or the transaction's messages). */
    DISCARD,
    /** At DATA: accept and freeze the message in the queue (Exim's freeze). */
    QUARANTINE;

    public String wire() {
      return name().toLowerCase(Locale.ROOT);
    }

    public static Type fromWire(String s) {
      return valueOf(s.toUpperCase(Locale.ROOT));
    }
  }

  public static final FilterVerdict CONTINUE = of(Type.CONTINUE);

  public FilterVerdict {
    addRecipients = addRecipients == null ? List.of() : List.copyOf(addRecipients);
    deleteRecipients = deleteRecipients == null ? List.of() : List.copyOf(deleteRecipients);
  }

  public static FilterVerdict of(Type type) {
    return new FilterVerdict(type, null, null, null, null, false, null, null, null);
  }

  /** A refusal with the filter's own reply. */
  public static FilterVerdict reply(Type type, int code, String enhanced, String text) {
    return new FilterVerdict(type, code, enhanced, text, null, false, null, null, null);
  }

  public FilterVerdict withReason(String why) {
    return new FilterVerdict(type, code, enhanced, text, why, edited, sender, addRecipients, deleteRecipients);
  }

  @Override
  public JsonObject toJson() {
    JsonObject j = new JsonObject().put("verdict", type.wire());
    if (code != null) {
      j.put("code", code);
    }
    if (enhanced != null) {
      j.put("enhanced", enhanced);
    }
    if (text != null) {
      j.put("text", text);
    }
    if (reason != null) {
      j.put("reason", reason);
    }
    if (edited) {
      j.put("edited", true);
    }
    if (sender != null) {
      j.put("sender", sender);
    }
    if (!addRecipients.isEmpty()) {
      j.put("add_recipients", new JsonArray(addRecipients));
    }
    if (!deleteRecipients.isEmpty()) {
      j.put("delete_recipients", new JsonArray(deleteRecipients));
    }
    return j;
  }

  /** An unknown verdict is a malformed answer: the caller applies the filter's failure verdict. */
  public static FilterVerdict fromJson(JsonObject j) {
    return new FilterVerdict(Type.fromWire(j.getString("verdict")), j.getInteger("code"), j.getString("enhanced"),
        j.getString("text"), j.getString("reason"), j.getBoolean("edited", false), j.getString("sender"),
        strings(j.getJsonArray("add_recipients")), strings(j.getJsonArray("delete_recipients")));
  }

  private static List<String> strings(JsonArray a) {
    return a == null ? List.of() : a.stream().map(String::valueOf).toList();
  }
}
