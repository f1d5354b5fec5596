package org.postern.smtp;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * An SMTP reply: a three-digit code, an RFC 3463 enhanced status code (may be null where RFC 2034
 * forbids one: the greeting and the EHLO response) and one or more text lines.
 * Immutable; {@link #render()} is the only place where replies become wire text, and it strips
 * CR and LF from the text so that nothing taken from configuration or from the client can inject
 * extra reply lines.
 */
public record SmtpReply(int code, String enhanced, List<String> lines) {

  public SmtpReply {
    if (code < 200 || code > 599) {
      throw new IllegalArgumentException("reply code " + code);
    }
    lines = List.copyOf(lines.isEmpty() ? List.of("") : lines);
  }

  public static SmtpReply of(int code, String enhanced, String text) {
    return new SmtpReply(code, enhanced, List.of(text));
  }

  /** The same code and enhanced code with other text (e.g. an ACL {@code message}). */
  public SmtpReply withText(String text) {
    return new SmtpReply(code, enhanced, splitLines(text));
  }

  public boolean isPositive() {
    return code < 400;
  }

  public boolean isTransientFailure() {
    return code >= 400 && code < 500;
  }

  public boolean isPermanentFailure() {
    return code >= 500;
  }

  /** Text of the first line, for logs. */
  public String text() {
    return String.join(" ", lines);
  }

  /** Wire form: {@code 250-2.0.0 first}, ..., {@code 250 2.0.0 last}, each ended by CRLF. */
  public String render() {
    StringBuilder sb = new StringBuilder(32 * lines.size());
    for (int i = 0; i < lines.size(); i++) {
      sb.append(code).append(i == lines.size() - 1 ? ' ' : '-');
      if (enhanced != null) {
        sb.append(enhanced).append(' ');
      }
      appendSanitized(sb, lines.get(i));
      sb.append("\r\n");
    }
    return sb.toString();
  }

  /** Single line form for logs: {@code 550 5.7.1 relay not permitted}. */
  @Override
  public String toString() {
    return code + (enhanced == null ? "" : " " + enhanced) + " " + text();
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("code", code).put("lines", new JsonArray(new ArrayList<>(lines)));
    if (enhanced != null) {
      json.put("enhanced", enhanced);
    }
    return json;
  }

  public static SmtpReply fromJson(JsonObject json) {
    List<String> text = new ArrayList<>();
    JsonArray arr = json.getJsonArray("lines");
    if (arr != null) {
      arr.forEach(o -> text.add(String.valueOf(o)));
    }
    return new SmtpReply(json.getInteger("code"), json.getString("enhanced"), text);
  }

  private static List<String> splitLines(String text) {
    // An ACL message may hold "\n" to ask for a multi-line reply, as Exim allows. Most texts are
    // one line (every "250 OK id=..." is made per message): no pattern for those.
    if (text.indexOf('\n') < 0 && text.indexOf('\r') < 0) {
      return List.of(text);
    }
    return List.of(text.split("\r\n|\n|\r", -1));
  }

  private static void appendSanitized(StringBuilder sb, String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      sb.append(c == '\r' || c == '\n' || c == 0 ? ' ' : c);
    }
  }
}
