package org.postern.queue;

import io.vertx.core.buffer.Buffer;
import org.postern.spool.Envelope;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Builds delivery status notifications (RFC 3464) in Exim's wording: a {@code multipart/report}
 * with a human explanation, a {@code message/delivery-status} part and the original headers
 * ({@code text/rfc822-headers}) or, when asked for and small enough, the whole original message
 * ({@code message/rfc822}). {@code Auto-Submitted: auto-replied} (RFC 3834) keeps well-behaved
 * software from answering it. About a message that came with SMTPUTF8 the report is RFC 6533's:
 * {@code message/global-delivery-status}, a UTF-8 recipient as {@code Final-Recipient: utf-8; ...}
 * (its characters as they are, RFC 6533 3's unitext), and the original as {@code message/global}
 * or {@code message/global-headers}.
 *
 * <p>Every text that came from elsewhere (remote replies, host names, addresses) goes through
 * Exim's {@code string_printing} escape before it is written, so a CR or LF in a remote server's
 * reply shows as {@code \r\n} and can never start a header or a status field; every generated
 * line is at most 998 octets, long fields are folded. Pure: no I/O.
 */
public final class BounceMessage {
  private static final DateTimeFormatter RFC5322 =
      DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss Z", Locale.ENGLISH).withZone(ZoneOffset.UTC);
  private static final Pattern ENHANCED = Pattern.compile("[245]\\.[0-9]{1,3}\\.[0-9]{1,3}");
  private static final String CRLF = "\r\n";
  /** Preferred line length for folding (RFC 5322 2.1.1). */
  private static final int FOLD_AT = 78;
  /** Hard limit of RFC 5322, without the CRLF. */
  static final int MAX_LINE = 998;

  private BounceMessage() {
  }

  /** The complete message, CRLF line ends. */
  public static Buffer build(BounceRequest request) {
    boolean failed = request.kind() == BounceRequest.Kind.FAILED;
    Envelope env = request.original();
    String host = clean(request.primaryHostname());
    Buffer attachment = attachment(request);
    boolean full = attachment != request.originalHeaders();
    Buffer attached = crlf(attachment);

    String text = switch (request.kind()) {
      case FAILED -> failureText(request, full);
      case DELAYED -> delayText(request);
      case SUCCEEDED -> successText(request);
    };
    // RFC 6533 6: a report about a message whose addresses or header fields may be UTF-8.
    boolean global = env.smtpUtf8();
    String status = deliveryStatus(request, global);
    String boundary = boundary(request.messageId(), attached, text, status);

    StringBuilder head = new StringBuilder(1024);
    head.append(fold("From", "Mail Delivery System <Mailer-Daemon@" + host + ">"));
    head.append(fold("To", "<" + clean(env.sender()) + ">"));
    head.append(fold("Subject", switch (request.kind()) {
      case FAILED -> "Mail delivery failed: returning message to sender";
      case DELAYED -> "Warning: message " + clean(env.id()) + " delayed " + delayWords(request.delay());
      case SUCCEEDED -> "Delivery Status Notification";
    }));
    head.append(fold("Auto-Submitted", "auto-replied"));
    head.append(fold("Message-ID", "<E" + clean(request.messageId()) + "@" + host + ">"));
    head.append(fold("Date", RFC5322.format(request.date())));
    if (failed) {
      head.append(fold("X-Failed-Recipients", String.join(", ",
          request.recipients().stream().map(r -> clean(r.address())).toList())));
    }
    head.append(fold("MIME-Version", "1.0"));
    head.append(fold("Content-Type", "multipart/report; report-type=delivery-status; boundary=\"" + boundary + "\""));
    head.append(CRLF);

    StringBuilder body = new StringBuilder(4096);
    body.append("This is a MIME-encapsulated message.").append(CRLF).append(CRLF);
    body.append("--").append(boundary).append(CRLF);
    body.append("Content-Type: text/plain; charset=us-ascii").append(CRLF);
    body.append("Content-Transfer-Encoding: 7bit").append(CRLF).append(CRLF);
    body.append(text);
    body.append(CRLF).append("--").append(boundary).append(CRLF);
    body.append("Content-Type: ").append(global ? "message/global-delivery-status" : "message/delivery-status")
        .append(CRLF);
    if (global && !isAscii(status)) {
      body.append("Content-Transfer-Encoding: 8bit").append(CRLF);
    }
    body.append(CRLF);
    body.append(status);
    body.append(CRLF).append("--").append(boundary).append(CRLF);
    body.append("Content-Type: ").append(global ? (full ? "message/global" : "message/global-headers")
        : (full ? "message/rfc822" : "text/rfc822-headers")).append(CRLF);
    if (hasEightBit(attached)) {
      body.append("Content-Transfer-Encoding: 8bit").append(CRLF);
    }
    body.append(CRLF);

    Buffer out = Buffer.buffer(head.length() + body.length() + attached.length() + 256);
    out.appendString(head.toString(), "US-ASCII").appendString(body.toString(), global ? "UTF-8" : "US-ASCII");
    out.appendBuffer(attached);
    if (attached.length() > 0 && attached.getByte(attached.length() - 1) != '\n') {
      out.appendString(CRLF);
    }
    out.appendString(CRLF + "--" + boundary + "--" + CRLF, "US-ASCII");
    return out;
  }

  /**
   * The header section of a message: everything up to and including the first empty line
   * (CRLF or bare LF), or all of it when there is no body.
   */
  public static Buffer headerSection(Buffer message) {
    int n = message.length();
    for (int i = 0; i < n; i++) {
      if (message.getByte(i) == '\n') {
        int next = i + 1;
        if (next < n && message.getByte(next) == '\n') {
          return message.getBuffer(0, next + 1);
        }
        if (next + 1 < n && message.getByte(next) == '\r' && message.getByte(next + 1) == '\n') {
          return message.getBuffer(0, next + 2);
        }
      }
    }
    return message.copy();
  }

  private static Buffer attachment(BounceRequest r) {
    // RFC 3461 4.3: RET=HDRS asks for the headers only, whatever bounce_return_message says.
    if (r.returnMessage() && !"HDRS".equals(r.original().dsnRet()) && r.originalMessage() != null
        && r.originalMessage().length() <= r.returnSizeLimit()) {
      return r.originalMessage();
    }
    return r.originalHeaders();
  }

  private static String failureText(BounceRequest r, boolean full) {
    List<String> lines = new ArrayList<>();
    lines.add("This message was created automatically by mail delivery software.");
    lines.add("");
    lines.add("A message that you sent could not be delivered to one or more of its");
    lines.add("recipients. This is a permanent error. The following address(es) failed:");
    lines.add("");
    for (BounceRequest.FailedRecipient f : r.recipients()) {
      lines.add("  " + clean(f.address()));
      explain(f, lines);
    }
    if (r.returnMessage() && !full && !"HDRS".equals(r.original().dsnRet())) {
      lines.add("");
      lines.add("The message is larger than bounce_return_size_limit (" + r.returnSizeLimit()
          + " bytes), so only its headers are returned.");
    }
    return join(lines);
  }

  private static String delayText(BounceRequest r) {
    Envelope env = r.original();
    List<String> lines = new ArrayList<>();
    lines.add("This message was created automatically by mail delivery software.");
    lines.add("A message that you sent has not yet been delivered to one or more of its");
    lines.add("recipients after more than " + delayWords(r.delay()) + " on the queue on "
        + clean(r.primaryHostname()) + ".");
    lines.add("");
    lines.add("The message identifier is:     " + clean(env.id()));
    lines.add("The date of the message is:    " + RFC5322.format(Instant.ofEpochMilli(env.receivedAt())));
    lines.add("");
    lines.add(r.recipients().size() == 1
        ? "The address to which the message has not yet been delivered is:"
        : "The addresses to which the message has not yet been delivered are:");
    lines.add("");
    for (BounceRequest.FailedRecipient f : r.recipients()) {
      lines.add("  " + clean(f.address()));
      explain(f, lines);
    }
    lines.add("");
    lines.add("No action is required on your part. Delivery attempts will continue for");
    lines.add("some time, and this warning may be repeated at intervals if the message");
    lines.add("remains undelivered. Eventually the mail delivery software will give up,");
    lines.add("and when that happens, the message will be returned to you.");
    return join(lines);
  }

  /** Exim's wording of a success DSN. */
  private static String successText(BounceRequest r) {
    List<String> lines = new ArrayList<>();
    lines.add("This message was created automatically by mail delivery software.");
    lines.add("");
    lines.add("Your message has been successfully delivered to the following addresses:");
    lines.add("");
    for (BounceRequest.FailedRecipient f : r.recipients()) {
      lines.add("  " + clean(f.address()));
      if (f.remoteHost() != null) {
        lines.add("    relayed to host " + clean(f.remoteHost())
            + ", which does not offer delivery status notifications (RFC 3461)");
      }
    }
    return join(lines);
  }

  /** Exim's per-address explanation: host, the command, then the reply. */
  private static void explain(BounceRequest.FailedRecipient f, List<String> lines) {
    if (f.remoteHost() != null) {
      lines.add("    host " + clean(f.remoteHost())
          + (f.remoteAddress() == null ? "" : " [" + clean(f.remoteAddress()) + "]"));
      lines.add("    SMTP error from remote mail server"
          + (f.afterCommand() == null ? "" : " after " + clean(f.afterCommand())) + ":");
      lines.add("    " + replyLine(f));
    } else {
      lines.add("    " + clean(f.text()));
    }
  }

  private static String replyLine(BounceRequest.FailedRecipient f) {
    String text = clean(f.text());
    return f.replyCode() > 0 ? f.replyCode() + " " + text : text;
  }

  private static String deliveryStatus(BounceRequest r, boolean global) {
    Envelope env = r.original();
    StringBuilder sb = new StringBuilder(1024);
    // RFC 3464 2.2.1: the ENVID of RFC 3461, when the sender gave one.
    if (env.dsnEnvid() != null) {
      sb.append(fold("Original-Envelope-Id", clean(env.dsnEnvid())));
    }
    sb.append(fold("Reporting-MTA", "dns; " + clean(r.primaryHostname())));
    sb.append(fold("X-Postern-Queue-ID", clean(env.id())));
    if (env.heloName() != null && !env.heloName().isEmpty()) {
      sb.append(fold("Received-From-MTA", "dns; " + clean(env.heloName())));
    }
    sb.append(fold("Arrival-Date", RFC5322.format(Instant.ofEpochMilli(env.receivedAt()))));
    Map<String, String> orcpts = originalRecipients(env);
    for (BounceRequest.FailedRecipient f : r.recipients()) {
      sb.append(CRLF);
      String orcpt = orcpts.get(MessageAttempt.unique(f.address()));
      if (orcpt != null) {
        sb.append(fold("Original-Recipient", clean(orcpt)));
      }
      sb.append(fold("Final-Recipient", finalRecipient(f.address(), global)));
      sb.append(fold("Action", switch (r.kind()) {
        case FAILED -> "failed";
        case DELAYED -> "delayed";
        case SUCCEEDED -> f.remoteHost() != null ? "relayed"
            : BounceRequest.FailedRecipient.EXPANDED.equals(f.text()) ? "expanded" : "delivered";
      }));
      sb.append(fold("Status", status(f, r.kind())));
      if (f.remoteHost() != null) {
        sb.append(fold("Remote-MTA", "dns; " + clean(f.remoteHost())));
      }
      if (f.replyCode() > 0) {
        sb.append(fold("Diagnostic-Code", "smtp; " + replyLine(f)));
      } else if (f.text() != null && !f.text().isEmpty()) {
        sb.append(fold("Diagnostic-Code", "X-Postern; " + clean(f.text())));
      }
      if (f.lastAttempt() != null) {
        sb.append(fold("Last-Attempt-Date", RFC5322.format(f.lastAttempt())));
      }
    }
    return sb.toString();
  }

  /**
   * RFC 3464 2.3.2's address type and address: {@code rfc822} for an ASCII address; in a global
   * report (RFC 6533 3) {@code utf-8} for a UTF-8 one, written as utf-8-addr-unitext: UTF-8 as it
   * is, and as {@code \x{HEX}} the characters it may not hold (controls, space, {@code \ + =}).
   * In a classic report a UTF-8 address cannot occur unescaped: it is Exim-escaped ASCII.
   */
  static String finalRecipient(String address, boolean global) {
    if (!global || isAscii(address)) {
      return "rfc822; " + clean(address);
    }
    StringBuilder sb = new StringBuilder("utf-8; ");
    address.codePoints().forEach(c -> {
      if (c <= 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == '\\' || c == '+' || c == '='
          || Character.getType(c) == Character.LINE_SEPARATOR || Character.getType(c) == Character.PARAGRAPH_SEPARATOR) {
        sb.append("\\x{").append(Integer.toHexString(c).toUpperCase(Locale.ROOT)).append('}');
      } else {
        sb.appendCodePoint(c);
      }
    });
    return sb.toString();
  }

  private static boolean isAscii(String s) {
    return s.chars().allMatch(c -> c < 0x80);
  }

  /** RFC 3461 ORCPT of each envelope recipient that has one, by {@link MessageAttempt#unique} address. */
  private static Map<String, String> originalRecipients(Envelope env) {
    Map<String, String> out = new HashMap<>();
    for (Envelope.Recipient r : env.recipients()) {
      if (r.dsnOrcpt() != null) {
        out.putIfAbsent(MessageAttempt.unique(r.address()), r.dsnOrcpt());
      }
    }
    return out;
  }

  /**
   * The RFC 3463 status: the one the server gave when its class fits the action (5 for failed,
   * 4 for delayed, 2 for delivered or relayed), else the generic {@code 5.0.0} / {@code 4.0.0} / {@code 2.0.0}.
   */
  static String status(BounceRequest.FailedRecipient f, BounceRequest.Kind kind) {
    char wanted = switch (kind) {
      case FAILED -> '5';
      case DELAYED -> '4';
      case SUCCEEDED -> '2';
    };
    String e = f.enhancedStatus();
    if (e != null && ENHANCED.matcher(e).matches() && e.charAt(0) == wanted) {
      return e;
    }
    return wanted + ".0.0";
  }

  /** Exim's wording for the delay: minutes below two hours, else hours. */
  static String delayWords(Duration d) {
    long s = d.getSeconds();
    return s < 120 * 60 ? (s / 60) + " minutes" : (s / 3600) + " hours";
  }

  /** One header or status field, folded at spaces to about 78 columns and never beyond 998. */
  static String fold(String name, String value) {
    StringBuilder out = new StringBuilder(name.length() + value.length() + 8);
    StringBuilder line = new StringBuilder(name).append(':');
    boolean lineHasWord = false;
    for (String w : value.split(" ", -1)) {
      String word = w;
      if (lineHasWord && line.length() + 1 + word.length() > FOLD_AT) {
        out.append(line).append(CRLF);
        line = new StringBuilder();
      }
      line.append(' ');
      while (line.length() + word.length() > MAX_LINE) {
        int room = MAX_LINE - line.length();
        line.append(word, 0, room);
        out.append(line).append(CRLF);
        line = new StringBuilder(" ");
        word = word.substring(room);
      }
      line.append(word);
      lineHasWord = true;
    }
    out.append(line).append(CRLF);
    return out.toString();
  }

  private static String join(List<String> lines) {
    StringBuilder sb = new StringBuilder();
    for (String l : lines) {
      String rest = l;
      while (rest.length() > MAX_LINE) {
        sb.append(rest, 0, MAX_LINE).append(CRLF);
        rest = rest.substring(MAX_LINE);
      }
      sb.append(rest).append(CRLF);
    }
    return sb.toString();
  }

  /** Printable ASCII only: nothing from outside can end a line. */
  private static String clean(String s) {
    return s == null ? "" : PrintableText.escape(s);
  }

  private static String boundary(String messageId, Buffer attached, String text, String status) {
    String base = "=_" + clean(messageId).replaceAll("[^A-Za-z0-9-]", "") + "_";
    String content = attached.toString(StandardCharsets.ISO_8859_1);
    for (int i = 0; ; i++) {
      String b = base + i;
      if (!content.contains("--" + b) && !text.contains("--" + b) && !status.contains("--" + b)) {
        return b;
      }
    }
  }

  /** Bare LFs become CRLF, existing CRLFs stay. */
  private static Buffer crlf(Buffer in) {
    Buffer out = Buffer.buffer(in.length() + 64);
    byte prev = 0;
    for (int i = 0; i < in.length(); i++) {
      byte b = in.getByte(i);
      if (b == '\n' && prev != '\r') {
        out.appendByte((byte) '\r');
      }
      out.appendByte(b);
      prev = b;
    }
    return out;
  }

  private static boolean hasEightBit(Buffer b) {
    for (int i = 0; i < b.length(); i++) {
      if (b.getByte(i) < 0) {
        return true;
      }
    }
    return false;
  }
}
