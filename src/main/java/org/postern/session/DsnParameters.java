package org.postern.session;

import io.vertx.core.json.JsonObject;
import org.postern.smtp.Replies;
import org.postern.smtp.SmtpReply;
import org.postern.smtp.XText;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The RFC 3461 parameters: {@code RET=} and {@code ENVID=} on MAIL, {@code NOTIFY=} and
 * {@code ORCPT=} on RCPT, each validated; a bad value is 501 5.5.4 with the reason (RFC 3461 4:
 * a syntax error in a parameter). Duplicates are refused earlier, by {@code MailPath}.
 */
final class DsnParameters {
  /** RFC 3461 4.4: "The ENVID ... MUST NOT exceed 100 characters". */
  static final int ENVID_MAX = 100;
  /** RFC 3461 4.2: an ORCPT value may be up to 500 characters. */
  static final int ORCPT_MAX = 500;
  private static final List<String> NOTIFY_EVENTS = List.of("SUCCESS", "FAILURE", "DELAY");

  /** MAIL's DSN parameters; either may be null. */
  record Mail(String ret, String envid) {
    static final Mail NONE = new Mail(null, null);

    /** Exim's {@code $dsn_ret} and {@code $dsn_envid}, when given. */
    JsonObject addVariables(JsonObject variables) {
      if (ret != null) {
        variables.put("dsn_ret", ret);
      }
      if (envid != null) {
        variables.put("dsn_envid", envid);
      }
      return variables;
    }
  }

  /** RCPT's DSN parameters: NOTIFY upper-cased, ORCPT decoded ({@code rfc822;addr}); either may be null. */
  record Rcpt(String notifyEvents, String orcpt) {
  }

  /** A parse result: the value, or the reply refusing it. */
  record Result<T>(T value, SmtpReply refusal) {
    static <T> Result<T> ok(T value) {
      return new Result<>(value, null);
    }

    static <T> Result<T> refused(String why) {
      return new Result<>(null, Replies.SYNTAX_ERROR.withText(why));
    }
  }

  private DsnParameters() {
  }

  static boolean isMailParameter(String key) {
    return key.equals("RET") || key.equals("ENVID");
  }

  static boolean isRcptParameter(String key) {
    return key.equals("NOTIFY") || key.equals("ORCPT");
  }

  /** RET= and ENVID= of MAIL's parameters (others are left to the caller). */
  static Result<Mail> mail(Map<String, String> parameters) {
    String ret = null;
    String envid = null;
    if (parameters.containsKey("RET")) {
      String v = upper(parameters.get("RET"));
      if (!v.equals("FULL") && !v.equals("HDRS")) {
        return Result.refused("RET must be FULL or HDRS");
      }
      ret = v;
    }
    if (parameters.containsKey("ENVID")) {
      String raw = parameters.get("ENVID");
      if (raw != null && raw.length() > ENVID_MAX) {
        return Result.refused("ENVID longer than " + ENVID_MAX + " characters");
      }
      envid = printable(XText.decode(raw));
      if (envid == null) {
        return Result.refused("Invalid ENVID= value (xtext of printable US-ASCII)");
      }
    }
    return Result.ok(new Mail(ret, envid));
  }

  /** NOTIFY= and ORCPT= of RCPT's parameters (others are left to the caller). */
  static Result<Rcpt> rcpt(Map<String, String> parameters) {
    String notify = null;
    String orcpt = null;
    if (parameters.containsKey("NOTIFY")) {
      List<String> events = new ArrayList<>();
      for (String e : upper(parameters.get("NOTIFY")).split(",", -1)) {
        if (!e.equals("NEVER") && !NOTIFY_EVENTS.contains(e)) {
          return Result.refused("NOTIFY must be NEVER or a list of SUCCESS, FAILURE, DELAY");
        }
        if (events.contains(e)) {
          return Result.refused("NOTIFY lists " + e + " twice");
        }
        events.add(e);
      }
      // RFC 3461 4.1: "NEVER" MUST appear by itself.
      if (events.contains("NEVER") && events.size() > 1) {
        return Result.refused("NOTIFY=NEVER must appear alone");
      }
      notify = String.join(",", events);
    }
    if (parameters.containsKey("ORCPT")) {
      String raw = parameters.get("ORCPT");
      if (raw != null && raw.length() > ORCPT_MAX) {
        return Result.refused("ORCPT longer than " + ORCPT_MAX + " characters");
      }
      int semicolon = raw == null ? -1 : raw.indexOf(';');
      // RFC 3461 4.2: addr-type is an atom; only rfc822 (and its xtext) is defined for SMTP.
      if (semicolon < 0 || !raw.substring(0, semicolon).equalsIgnoreCase("rfc822")) {
        return Result.refused("ORCPT must be rfc822;<xtext address>");
      }
      String address = printable(XText.decode(raw.substring(semicolon + 1)));
      int at = address == null ? -1 : address.lastIndexOf('@');
      if (at < 1 || at == address.length() - 1) {
        return Result.refused("Invalid ORCPT= address (xtext of an rfc822 address)");
      }
      orcpt = "rfc822;" + address;
    }
    return Result.ok(new Rcpt(notify, orcpt));
  }

  private static String upper(String value) {
    return value == null ? "" : value.toUpperCase(Locale.ROOT);
  }

  /** {@code decoded} when it is printable US-ASCII (it ends up in DSN fields: no CR, LF or NUL), else null. */
  private static String printable(String decoded) {
    if (decoded == null) {
      return null;
    }
    for (int i = 0; i < decoded.length(); i++) {
      char c = decoded.charAt(i);
      if (c < 32 || c > 126) {
        return null;
      }
    }
    return decoded;
  }
}
