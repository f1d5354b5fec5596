package org.postern.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import org.postern.bus.SessionClose;
import org.postern.bus.SessionCommand;
import org.postern.bus.SessionData;
import org.postern.bus.SessionOpen;
import org.postern.bus.SessionResponse;
import org.postern.bus.SessionTls;
import org.postern.smtp.SmtpReply;

import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Connections, TLS, commands and replies, from the traffic between the listeners and the session
 * verticle ({@link SessionOpen}, {@link SessionCommand}, {@link SessionData}, {@link SessionTls},
 * {@link SessionClose} and the {@link SessionResponse} answering each). Labels have a bounded set
 * of values: the listener's name from the configuration, a known SMTP verb or {@code other} (a
 * client chooses what it sends; SASL responses are {@code other} too), the reply's class, the TLS
 * protocol and cipher suite the engine negotiated. Sessions without a TCP peer ({@code -bs},
 * {@code -bS}, {@code -bh}) are not counted.
 */
final class SessionMeters implements BusObserver {
  /** RFC 5321's verbs and the extensions Postern serves; anything else is {@code other}. */
  static final Set<String> VERBS = Set.of("HELO", "EHLO", "MAIL", "RCPT", "DATA", "BDAT", "RSET", "NOOP", "QUIT",
      "VRFY", "EXPN", "HELP", "ETRN", "STARTTLS", "AUTH");
  /** {@link #replyClass} without a string made per reply. */
  private static final String[] REPLY_CLASSES = {"0xx", "1xx", "2xx", "3xx", "4xx", "5xx", "6xx", "7xx", "8xx", "9xx"};
  private static final String GREETING = "greeting";
  private static final String END_OF_DATA = "end_of_data";

  private final MeterRegistry registry;
  private final TaggedCounters commands;
  private final TaggedCounters answers;
  private final TaggedCounters rejected;
  private final TaggedCounters accepted;
  private final TaggedCounters tlsFailures;
  /** Listener of each open session (by session id), for the TLS facts and the close. */
  private final Map<String, String> listeners = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> open = new ConcurrentHashMap<>();
  /** What each pending {@link SessionResponse} answers: a verb, the greeting or the end of data. */
  private final Pending<String> replies = new Pending<>();
  /** Size of each message the session committed, by spool id, until the queue says it is accepted. */
  private final Pending<Long> committed;

  SessionMeters(MeterRegistry registry, Pending<Long> committed) {
    this.registry = registry;
    this.committed = committed;
    this.commands = TaggedCounters.by(registry, "postern.smtp.commands", "SMTP commands received, by verb", "verb");
    this.answers = TaggedCounters.by(registry, "postern.smtp.replies",
        "SMTP replies sent, by the command answered and class", "command", "class");
    this.rejected = TaggedCounters.by(registry, "postern.messages.rejected",
        "messages refused at the end of DATA, by reply class", "class");
    this.accepted = TaggedCounters.by(registry, "postern.connections.accepted",
        "SMTP connections accepted (a session started)", "listener");
    this.tlsFailures = TaggedCounters.by(registry, "postern.tls.failures", "STARTTLS handshakes that failed", "listener");
  }

  @Override
  public void sent(Message<?> message, Object body, long now) {
    if (body instanceof SessionCommand c) {
      String verb = verb(c.line());
      commands.of(verb).increment();
      replies.put(message.replyAddress(), verb, now);
    } else if (body instanceof SessionResponse r) {
      answered(message.address(), r, now);
    } else if (body instanceof SessionOpen o && !o.local()) {
      opened(o, message.replyAddress(), now);
    } else if (body instanceof SessionData) {
      replies.put(message.replyAddress(), END_OF_DATA, now);
    } else if (body instanceof SessionTls t) {
      String listener = listeners.get(t.id());
      if (listener != null) {
        tls(listener, t.failed() ? null : t.tls());
      }
    } else if (body instanceof SessionClose c) {
      String listener = listeners.remove(c.id());
      if (listener != null) {
        open.get(listener).decrementAndGet();
      }
    }
  }

  @Override
  public void sweep(long olderThan) {
    replies.sweep(olderThan);
  }

  private void opened(SessionOpen o, String replyAddress, long now) {
    String listener = o.listener();
    listeners.put(o.id(), listener);
    open.computeIfAbsent(listener, l -> {
      AtomicLong n = new AtomicLong();
      Gauge.builder("postern.connections.open", n, AtomicLong::get).description("SMTP connections open now")
          .tag("listener", l).register(registry);
      return n;
    }).incrementAndGet();
    accepted.of(listener).increment();
    if (o.tls() != null) {
      tls(listener, o.tls());
    }
    replies.put(replyAddress, GREETING, now);
  }

  private void tls(String listener, JsonObject facts) {
    if (facts == null) {
      tlsFailures.of(listener).increment();
      return;
    }
    Counter.builder("postern.tls.sessions").description("TLS sessions established (STARTTLS or implicit TLS)")
        .tag("listener", listener).tag("protocol", facts.getString("tls_protocol", "unknown"))
        .tag("cipher", facts.getString("tls_cipher_suite", "unknown")).register(registry).increment();
  }

  private void answered(String address, SessionResponse r, long now) {
    String what = replies.take(address);
    if (what == null || r.reply() == null) {
      return;
    }
    String replyClass = replyClass(r.reply());
    answers.of(what, replyClass).increment();
    if (what.equals(END_OF_DATA) && !r.reply().isPositive()) {
      rejected.of(replyClass).increment();
    }
    if (r.facts() instanceof SessionResponse.Commit c) {
      // Counted once the queue announces it accepted (the spool commit can still fail).
      committed.put(c.envelope().id(), c.envelope().size(), now);
    }
  }

  static String verb(String line) {
    int space = line.indexOf(' ');
    String verb = (space < 0 ? line : line.substring(0, space)).toUpperCase(Locale.ROOT);
    return VERBS.contains(verb) ? verb : "other";
  }

  static String replyClass(SmtpReply reply) {
    int digit = reply.code() / 100;
    return digit >= 0 && digit < REPLY_CLASSES.length ? REPLY_CLASSES[digit] : digit + "xx";
  }
}
