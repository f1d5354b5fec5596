package org.postern.delivery.smtp;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import org.postern.smtp.SmtpReply;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns the bytes a remote server sends into SMTP replies (multi-line ones joined), and hands
 * them out one by one to whoever waits, each wait bounded by a timeout. Any breakage (timeout,
 * closed connection, a line that is not {@code ddd[ -]text}) is sticky: every later wait fails
 * at once with a {@link HostDeferral} worded like Exim's. Runs on the connection's event loop only.
 */
final class ReplyReader {
  private static final Pattern LINE = Pattern.compile("([2-5]\\d\\d)([ -])(.*)", Pattern.DOTALL);
  private static final Pattern ENHANCED = Pattern.compile("([245]\\.\\d{1,3}\\.\\d{1,3}) ?(.*)", Pattern.DOTALL);
  private static final int MAX_LINE = 16 * 1024;

  private enum Breakage { CLOSED, TIMEOUT, MALFORMED }

  private final Vertx vertx;
  private final Deque<SmtpReply> ready = new ArrayDeque<>();
  private final List<String> partial = new ArrayList<>();
  private Buffer pending = Buffer.buffer();
  private int partialCode;
  private int discards;
  private Promise<SmtpReply> waiting;
  private String waitingStage;
  private long timer = -1;
  private volatile Breakage breakage;
  private String breakageDetail;
  private Runnable onBreak = () -> { };

  ReplyReader(Vertx vertx) {
    this.vertx = vertx;
  }

  /** Called once, the first time the reader breaks (so the owner can close the socket). */
  void onBreak(Runnable action) {
    this.onBreak = action;
  }

  boolean broken() {
    return breakage != null;
  }

  /** Bytes from the socket. */
  void feed(Buffer data) {
    if (breakage != null) {
      return;
    }
    Buffer buf = pending.appendBuffer(data);
    int generation = discards;
    int start = 0;
    for (int i = 0; i < buf.length(); i++) {
      if (buf.getByte(i) == '\n') {
        int end = i > start && buf.getByte(i - 1) == '\r' ? i - 1 : i;
        // Completing a reply may run the waiter's continuation at once (e.g. STARTTLS, which discards).
        line(buf.getString(start, end, StandardCharsets.ISO_8859_1.name()));
        if (breakage != null || generation != discards) {
          return;
        }
        start = i + 1;
      }
    }
    pending = start == 0 ? buf : buf.getBuffer(start, buf.length());
    if (pending.length() > MAX_LINE) {
      brk(Breakage.MALFORMED, "line too long");
    }
  }

  /** The socket closed (or was reset). */
  void closed(String detail) {
    if (breakage == null) {
      brk(Breakage.CLOSED, detail);
    }
  }

  /** Drops replies read so far (e.g. anything sent before the TLS handshake, which must not be trusted). */
  void discardBuffered() {
    discards++;
    ready.clear();
    partial.clear();
    pending = Buffer.buffer();
  }

  /**
   * The next reply.
   *
   * @param stage   what it answers, for error texts: {@code MAIL FROM:<a@b>}, {@code end of data}
   * @param timeout how long to wait
   */
  Future<SmtpReply> next(String stage, Duration timeout) {
    if (waiting != null) {
      return Future.failedFuture(new IllegalStateException("already waiting for a reply to " + waitingStage));
    }
    if (!ready.isEmpty()) {
      return Future.succeededFuture(ready.poll());
    }
    if (breakage != null) {
      return Future.failedFuture(deferral(stage));
    }
    waiting = Promise.promise();
    waitingStage = stage;
    timer = vertx.setTimer(Math.max(1, timeout.toMillis()), id -> {
      timer = -1;
      brk(Breakage.TIMEOUT, null);
    });
    return waiting.future();
  }

  private void line(String text) {
    Matcher m = LINE.matcher(text);
    boolean plain = text.length() == 3 && text.chars().allMatch(Character::isDigit) && text.charAt(0) >= '2'
        && text.charAt(0) <= '5';
    if (!m.matches() && !plain) {
      brk(Breakage.MALFORMED, text);
      return;
    }
    int code = Integer.parseInt(text.substring(0, 3));
    if (!partial.isEmpty() && code != partialCode) {
      brk(Breakage.MALFORMED, text);
      return;
    }
    partialCode = code;
    partial.add(plain ? "" : m.group(3));
    if (plain || m.group(2).equals(" ")) {
      SmtpReply reply = build(code, partial);
      partial.clear();
      if (waiting != null) {
        Promise<SmtpReply> p = release();
        p.complete(reply);
      } else {
        ready.add(reply);
      }
    }
  }

  private static SmtpReply build(int code, List<String> lines) {
    String enhanced = null;
    List<String> texts = new ArrayList<>();
    for (String l : lines) {
      Matcher e = ENHANCED.matcher(l);
      if (e.matches() && e.group(1).charAt(0) == Integer.toString(code).charAt(0)) {
        enhanced = enhanced == null ? e.group(1) : enhanced;
        texts.add(e.group(2));
      } else {
        texts.add(l);
      }
    }
    return new SmtpReply(code, enhanced, texts);
  }

  private void brk(Breakage kind, String detail) {
    breakage = kind;
    breakageDetail = detail;
    if (waiting != null) {
      String stage = waitingStage;
      release().fail(deferral(stage));
    }
    onBreak.run();
  }

  private Promise<SmtpReply> release() {
    Promise<SmtpReply> p = waiting;
    waiting = null;
    waitingStage = null;
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
    return p;
  }

  private HostDeferral deferral(String stage) {
    return new HostDeferral(switch (breakage) {
      case TIMEOUT -> "SMTP timeout after " + stage;
      case CLOSED -> "Remote host closed connection in response to " + stage
          + (breakageDetail == null ? "" : " (" + breakageDetail + ")");
      case MALFORMED -> "Malformed SMTP reply in response to " + stage + ": \"" + printable(breakageDetail) + "\"";
    });
  }

  /** At most 60 characters, control characters shown as '?', so a hostile reply cannot forge log lines. */
  static String printable(String s) {
    return printable(s, 60);
  }

  static String printable(String s, int max) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < s.length() && sb.length() < max; i++) {
      char c = s.charAt(i);
      sb.append(c < 0x20 || c >= 0x7f ? '?' : c);
    }
    return sb.toString();
  }
}
