package org.postern.queue;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import org.postern.bus.Addresses;
import org.postern.bus.DeliveryDsn;
import org.postern.bus.DeliveryRequest;
import org.postern.bus.DeliveryResult;
import org.postern.bus.DeliveryStatus;
import org.postern.bus.DeliveryWaiting;
import org.postern.bus.MessageEvent;
import org.postern.bus.RemoteHost;
import org.postern.bus.UnansweredRequest;
import org.postern.config.PluginTransportOptions;
import org.postern.config.PosternConfig;
import org.postern.config.RetryError;
import org.postern.config.RetryRule;
import org.postern.config.RetryRules;
import org.postern.config.RetrySchedule;
import org.postern.config.RouterConfig;
import org.postern.config.SmtpTransportOptions;
import org.postern.delivery.SmtpDeliveryVerticle;
import org.postern.log.MainLog;
import org.postern.spool.Envelope;
import org.postern.spool.Spool;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * The remote part of a message's delivery attempt: routes the recipients (one routing per
 * domain), skips destinations whose retry time has not come, sends each group of recipients that
 * share a transport and host list once, through {@code postern.deliver.smtp} or a plugin
 * transport's address, and applies the
 * per-recipient results: main-log lines in Exim's words, retry records, and failures for the bounce.
 * The recipients are distinct ({@link MessageAttempt#pending()}): an address given twice is sent
 * once, as Exim sends it. Work that grows with the recipients runs on a worker.
 */
final class RemoteDeliveries {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(RemoteDeliveries.class);
  static final String RETRY_NOT_REACHED = "retry time not reached";
  private static final long SEND_TIMEOUT = 3_600_000;

  private final Vertx vertx;
  private final WorkerExecutor workers;
  private final Spool spool;
  private final RetryDatabase retry;
  private final RemoteRouter router;
  private final DeliveryPermits permits;
  private final Clock clock;
  private final MessageEvents events;

  RemoteDeliveries(Vertx vertx, WorkerExecutor workers, Spool spool, RetryDatabase retry, RemoteRouter router,
                   DeliveryPermits permits, Clock clock, MessageEvents events) {
    this.vertx = vertx;
    this.workers = workers;
    this.spool = spool;
    this.retry = retry;
    this.router = router;
    this.permits = permits;
    this.clock = clock;
    this.events = events;
  }

  /** Recipients that go to the same hosts through the same router and transport. */
  private record Group(RouterConfig router, List<RemoteHost> hosts, List<String> recipients) {
  }

  Future<Void> deliver(MessageAttempt a, List<Envelope.Recipient> recipients, PosternConfig c) {
    return workers.executeBlocking(() -> due(a, recipients, c), false).compose(due -> deliver(a, due, c));
  }

  /**
   * The recipients whose retry time has come, by domain, after reading the retry hints again; the
   * others are logged. Blocking: the queue calls it in the worker task that read the message, so
   * that a relayed message needs no worker hand-off of its own for it.
   */
  Due due(MessageAttempt a, List<Envelope.Recipient> recipients, PosternConfig c) {
    Instant now = clock.instant();
    Instant arrival = Instant.ofEpochMilli(a.message().receivedAt());
    refreshRetryHints();
    return new Due(byDueDomain(a, recipients, c, now, arrival), now, arrival);
  }

  /** {@link #due}'s answer: the recipients to attempt by domain, and the instants it was decided on. */
  record Due(Map<String, List<String>> byDomain, Instant now, Instant arrival) {
  }

  /** Routes and delivers the due recipients, then writes the envelope if it changed. */
  Future<Void> deliver(MessageAttempt a, Due due, PosternConfig c) {
    permits.limit(c.delivery().remoteMaxParallel());
    List<Future<Void>> done = new ArrayList<>();
    for (Map.Entry<String, List<String>> e : due.byDomain().entrySet()) {
      done.add(router.route(c, e.getKey())
          .compose(d -> routed(a, e.getKey(), e.getValue(), d, c, due.now(), due.arrival()))
          .onFailure(err -> LOG.warn("{}: delivery to {} not attempted: {}", a.id(), e.getValue(), err.toString())));
    }
    return Future.join(done).transform(ar -> a.save(workers, spool));
  }

  /** Another process (-M, -q, a second daemon) may have written or cleared retry hints meanwhile. Blocking. */
  private void refreshRetryHints() {
    try {
      retry.refresh();
    } catch (Exception e) {
      LOG.warn("retry hints not read again, deciding on the last ones read: {}", e.toString());
    }
  }

  /** The recipients whose retry time has come, by domain; the others are logged. */
  private Map<String, List<String>> byDueDomain(MessageAttempt a, List<Envelope.Recipient> recipients,
                                                PosternConfig c, Instant now, Instant arrival) {
    Map<String, List<String>> byDomain = new LinkedHashMap<>();
    for (Envelope.Recipient r : recipients) {
      if (!a.force() && !addressDue(r.address(), r.domain(), now, arrival, c)) {
        MainLog.write(a.id() + " == " + r.address() + ": " + RETRY_NOT_REACHED);
        continue;
      }
      byDomain.computeIfAbsent(r.domain().toLowerCase(Locale.ROOT), d -> new ArrayList<>()).add(r.address());
    }
    return byDomain;
  }

  private boolean addressDue(String address, String domain, Instant now, Instant arrival, PosternConfig c) {
    String key = RetryDatabase.addressKey(address);
    Optional<RetryRecord> r = retry.lookup(key, now);
    if (r.isEmpty()) {
      return true;
    }
    RetryRule rule = c.delivery().retryRules().find(address, domain, r.get().error(), 0);
    return retry.isDue(key, now, arrival, rule);
  }

  private Future<Void> routed(MessageAttempt a, String domain, List<String> addresses, RemoteRouter.Decision d,
                              PosternConfig c, Instant now, Instant arrival) {
    if (d instanceof RemoteRouter.Routed r) {
      return hosts(a, domain, addresses, r, c, now, arrival);
    }
    if (d instanceof RemoteRouter.Failed f) {
      return failAll(a, () -> {
        List<BounceRequest.FailedRecipient> failed = new ArrayList<>();
        for (String address : addresses) {
          MainLog.write(a.id() + " ** " + address + (f.router() == null ? "" : " R=" + f.router().name()) + ": "
              + f.reason());
          events.recipient(MessageEvent.Kind.FAILED, a.id(), address, f.router() == null ? null : f.router().name(),
              null, null, 0, f.reason());
          failed.add(BounceRequest.FailedRecipient.local(address, f.reason(), now));
        }
        return failed;
      });
    }
    RemoteRouter.Deferred f = (RemoteRouter.Deferred) d;
    return failAll(a, () -> {
      List<BounceRequest.FailedRecipient> failed = new ArrayList<>();
      for (String address : addresses) {
        RetryRule rule = c.delivery().retryRules().find(address, domain, RetryError.OTHER, 0);
        if (retry.recordFailure(RetryDatabase.addressKey(address), RetryError.OTHER, f.reason(), now, rule, arrival)
            .giveUp()) {
          failed.add(timedOut(a, address, f.router(), null, f.reason(), now));
        } else {
          MainLog.write(a.id() + " == " + address + " R=" + f.router().name() + " defer: " + f.reason());
          events.recipient(MessageEvent.Kind.DEFERRED, a.id(), address, f.router().name(), null, null, 0, f.reason());
        }
      }
      return failed;
    });
  }

  /**
   * Runs {@code outcomes} (log lines, retry records) on a worker and records the failures it
   * returns on the queue's context, where the attempt is changed.
   */
  private Future<Void> failAll(MessageAttempt a, Callable<List<BounceRequest.FailedRecipient>> outcomes) {
    return workers.executeBlocking(outcomes, false).map(failed -> {
      failed.forEach(a::fail);
      return null;
    });
  }

  private Future<Void> hosts(MessageAttempt a, String domain, List<String> addresses, RemoteRouter.Routed r,
                             PosternConfig c, Instant now, Instant arrival) {
    String tags = " R=" + r.router().name() + " T=" + r.router().transport();
    if (r.hosts().isEmpty()) {
      // An accept router: the plugin transport knows where the mail goes; only the recipients have retry times.
      Group g = new Group(r.router(), List.of(), addresses);
      return permits.run(() -> send(a, g, c), () -> waiting(a, g, c))
          .compose(reply -> apply(a, domain, g, reply, c, now, arrival));
    }
    List<RemoteHost> due = new ArrayList<>();
    boolean allExpired = true;
    for (RemoteHost h : r.hosts()) {
      String key = hostKey(h);
      Optional<RetryRecord> record = retry.lookup(key, now);
      RetryRule rule = record.map(x -> c.delivery().retryRules().find(h.nameOrAddress(), domain, x.error(), 0))
          .orElse(null);
      if (a.force() || record.isEmpty() || retry.isDue(key, now, arrival, rule)) {
        due.add(h);
      }
      allExpired &= record.isPresent() && record.get().expired();
    }
    if (due.isEmpty()) {
      boolean expired = allExpired;
      return failAll(a, () -> {
        List<BounceRequest.FailedRecipient> failed = new ArrayList<>();
        for (String address : addresses) {
          if (expired) {
            failed.add(timedOut(a, address, r.router(), r.router().transport(),
                "all hosts have been failing for a long time", now));
          } else {
            MainLog.write(a.id() + " == " + address + tags + " defer: " + RETRY_NOT_REACHED + " for any host");
          }
        }
        return failed;
      });
    }
    SmtpTransportOptions transport = c.delivery().transports().get(r.router().transport());
    if (transport != null && due.size() > transport.hostsMaxTry()) {
      // Exim's hosts_max_try: the hosts beyond it wait for the next attempt (their retry records are untouched).
      due = due.subList(0, transport.hostsMaxTry());
    }
    Group g = new Group(r.router(), due, addresses);
    return permits.run(() -> send(a, g, c), () -> waiting(a, g, c))
        .compose(reply -> apply(a, domain, g, reply, c, now, arrival));
  }

  /** Tells observers (and tests) that this delivery waits for a {@code remote_max_parallel} permit. */
  private void waiting(MessageAttempt a, Group g, PosternConfig c) {
    vertx.eventBus().publish(Addresses.DELIVERY_WAITING,
        new DeliveryWaiting(a.id(), g.router().transport(), c.delivery().remoteMaxParallel()).toJson(),
        new DeliveryOptions().setLocalOnly(true));
  }

  /** The RFC 3461 parameters of the message and of these recipients, for the transport to pass on. */
  private static DeliveryDsn dsn(Envelope e, List<String> recipients) {
    Set<String> wanted = new HashSet<>(recipients);
    Map<String, String> notify = new HashMap<>();
    Map<String, String> orcpt = new HashMap<>();
    for (Envelope.Recipient r : e.recipients()) {
      if (wanted.contains(r.address())) {
        if (r.dsnNotify() != null) {
          notify.putIfAbsent(r.address(), r.dsnNotify());
        }
        if (r.dsnOrcpt() != null) {
          orcpt.putIfAbsent(r.address(), r.dsnOrcpt());
        }
      }
    }
    return new DeliveryDsn(e.dsnRet(), e.dsnEnvid(), notify, orcpt);
  }

  /**
   * Asks the group's transport: {@code smtp} by reference, a plugin transport ({@code driver: plugin})
   * in JSON on its address, within its timeout. A transport that does not answer defers every
   * recipient of the group, with the reason in the main log.
   */
  private Future<DeliveryResult> send(MessageAttempt a, Group g, PosternConfig c) {
    Envelope e = a.message();
    DeliveryRequest request = new DeliveryRequest(a.id(), g.router().transport(), spool.dataFile(a.id()).toString(),
        e.sender(), e.size(), "8BITMIME".equalsIgnoreCase(e.bodyType()), e.receivedAt(), false, g.recipients(),
        g.hosts(), dsn(e, g.recipients()), e.smtpUtf8(), e.requireTls(), e.tlsRequiredNo());
    PluginTransportOptions plugin = c.delivery().pluginTransports().get(g.router().transport());
    Future<DeliveryResult> result = plugin == null
        ? vertx.eventBus().<DeliveryResult>request(SmtpDeliveryVerticle.ADDRESS, request,
            new DeliveryOptions().setLocalOnly(true).setSendTimeout(SEND_TIMEOUT)).map(Message::body)
        : vertx.eventBus().request(plugin.address(), request.toJson(),
            new DeliveryOptions().setLocalOnly(true).setSendTimeout(plugin.timeout().toMillis()))
            .map(m -> pluginResult(m.body(), g.recipients()));
    String transport = plugin == null ? "smtp" : plugin.name();
    return result.recover(err -> Future.succeededFuture(new DeliveryResult(g.recipients().stream()
        .map(rcpt -> DeliveryResult.Recipient.local(rcpt, DeliveryStatus.DEFERRED, 0, null,
            transport + " transport unavailable: " + (plugin == null ? err.getMessage()
                : UnansweredRequest.describe(err, plugin.address(), plugin.timeout().toMillis())))).toList(),
        List.of())));
  }

  /**
   * A plugin's answer, checked: one result per requested recipient. A recipient the plugin left
   * out is deferred, so an incomplete answer never loses or doubles mail.
   */
  static DeliveryResult pluginResult(Object body, List<String> recipients) {
    if (!(body instanceof io.vertx.core.json.JsonObject json)) {
      throw new IllegalArgumentException("the plugin answered " + (body == null ? "nothing" : "not a JSON object"));
    }
    DeliveryResult answer = DeliveryResult.fromJson(json);
    Map<String, DeliveryResult.Recipient> byAddress = new LinkedHashMap<>();
    for (DeliveryResult.Recipient r : answer.recipients()) {
      if (r.status() != null && r.address() != null) {
        byAddress.putIfAbsent(r.address(), r);
      }
    }
    List<DeliveryResult.Recipient> results = new ArrayList<>();
    for (String rcpt : recipients) {
      results.add(byAddress.getOrDefault(rcpt, DeliveryResult.Recipient.local(rcpt, DeliveryStatus.DEFERRED, 0, null,
          "no result for this recipient from the plugin transport")));
    }
    return new DeliveryResult(results, answer.hostProblems());
  }

  /**
   * Logs and records one group's results on a worker (retry records are written there), then
   * applies them to the attempt on the queue's context: the groups of one message run in parallel.
   */
  private Future<Void> apply(MessageAttempt a, String domain, Group g, DeliveryResult reply, PosternConfig c,
                             Instant now, Instant arrival) {
    String tags = " R=" + g.router().name() + " T=" + g.router().transport();
    RetryRules rules = c.delivery().retryRules();
    List<String> delivered = new ArrayList<>();
    List<BounceRequest.FailedRecipient> relayed = new ArrayList<>();
    List<BounceRequest.FailedRecipient> failed = new ArrayList<>();
    return workers.<Void>executeBlocking(() -> {
      boolean hostsGiveUp = !reply.hostProblems().isEmpty();
      for (DeliveryResult.HostProblem p : reply.hostProblems()) {
        RetryError kind = hostError(p.reason());
        RetrySchedule.Outcome o = retry.recordFailure(hostKey(p.host()), kind, p.reason(), now,
            rules.find(p.host().nameOrAddress(), domain, kind, 0), arrival);
        hostsGiveUp &= o.giveUp();
      }
      for (DeliveryResult.Recipient r : reply.recipients()) {
        String address = r.address();
        int code = r.code();
        String text = r.text();
        RemoteHost host = r.host();
        String h = host == null ? "" : " H=" + host;
        switch (r.status()) {
          case DELIVERED -> {
            MainLog.write(a.id() + " => " + address + tags + h
                + (r.tls() == null ? "" : " " + r.tls())
                + (r.authenticator() == null ? "" : " A=" + r.authenticator())
                + (r.chunking() ? " K" : "")
                + " C=\"" + text.replace("\"", "\\\"") + "\"");
            retry.recordSuccess(RetryDatabase.addressKey(address));
            if (host != null) {
              retry.recordSuccess(hostKey(host));
            }
            event(MessageEvent.Kind.DELIVERED, a, address, g, host, code, text);
            delivered.add(address);
            if (!r.dsnPassedOn()) {
              // RFC 3461 6.2.1: a next hop without DSN cannot report success, so this MTA says "relayed".
              // The text is the whole reply; the report puts the code before it itself.
              relayed.add(BounceRequest.FailedRecipient.remote(address, host == null ? null : host.nameOrAddress(),
                  host == null ? null : host.address(), null, code, r.enhanced(),
                  text.startsWith(code + " ") ? text.substring(String.valueOf(code).length() + 1) : text, now));
            }
          }
          case FAILED -> {
            MainLog.write(a.id() + " ** " + address + tags + h + ": " + text);
            event(MessageEvent.Kind.FAILED, a, address, g, host, code, text);
            failed.add(BounceRequest.FailedRecipient.remote(address, host == null ? null : host.nameOrAddress(),
                host == null ? null : host.address(), null, code, r.enhanced(), text, now));
          }
          case DEFERRED -> {
            boolean giveUp;
            // A reply, or no host to blame (a plugin transport that found none): the recipient's own retry time.
            if (code > 0 || reply.hostProblems().isEmpty()) {
              RetryError kind = code > 0 ? replyError(text) : RetryError.OTHER;
              giveUp = retry.recordFailure(RetryDatabase.addressKey(address), kind, text, now,
                  rules.find(address, domain, kind, code), arrival).giveUp();
            } else {
              giveUp = hostsGiveUp;
            }
            if (giveUp) {
              MainLog.write(a.id() + " ** " + address + tags + h + ": " + RetryDatabase.RETRY_TIMEOUT_EXCEEDED
                  + " (last error: " + text + ")");
              failed.add(BounceRequest.FailedRecipient.remote(address, host == null ? null : host.nameOrAddress(),
                  host == null ? null : host.address(), null, code, null,
                  RetryDatabase.RETRY_TIMEOUT_EXCEEDED + ": " + text, now));
              event(MessageEvent.Kind.FAILED, a, address, g, host, code,
                  RetryDatabase.RETRY_TIMEOUT_EXCEEDED + " (last error: " + text + ")");
            } else {
              MainLog.write(a.id() + " == " + address + tags + h + " defer: " + text);
              event(MessageEvent.Kind.DEFERRED, a, address, g, host, code, text);
            }
          }
        }
      }
      return null;
    }, false).compose(v -> {
      failed.forEach(a::fail);
      delivered.forEach(a::deliveredRemotely);
      relayed.forEach(a::succeeded);
      return a.save(workers, spool);
    });
  }

  /**
   * The recipient has been failing longer than its retry rule allows. {@code transport} is null
   * when routing itself kept deferring.
   */
  private BounceRequest.FailedRecipient timedOut(MessageAttempt a, String address, RouterConfig router,
                                                 String transport, String reason, Instant now) {
    String tags = " R=" + router.name() + (transport == null ? "" : " T=" + transport);
    MainLog.write(a.id() + " ** " + address + tags + ": " + RetryDatabase.RETRY_TIMEOUT_EXCEEDED + " (" + reason + ")");
    events.recipient(MessageEvent.Kind.FAILED, a.id(), address, router.name(), transport, null, 0,
        RetryDatabase.RETRY_TIMEOUT_EXCEEDED + ": " + reason);
    return BounceRequest.FailedRecipient.local(address, RetryDatabase.RETRY_TIMEOUT_EXCEEDED + ": " + reason, now);
  }

  private void event(MessageEvent.Kind kind, MessageAttempt a, String address, Group g, RemoteHost host, int code,
                     String text) {
    events.recipient(kind, a.id(), address, g.router().name(), g.router().transport(), host, code, text);
  }

  private static String hostKey(RemoteHost h) {
    return RetryDatabase.hostKey(h.nameOrAddress(), h.address(), h.port());
  }

  /** The retry-rule error of a connection-level problem, from Exim's wording of it. */
  static RetryError hostError(String reason) {
    String r = reason.toLowerCase(Locale.ROOT);
    if (r.contains("refused")) {
      return RetryError.REFUSED;
    }
    if (r.contains("timeout") || r.contains("timed out")) {
      return RetryError.TIMEOUT;
    }
    if (r.contains("tls") && r.contains("requir")) {
      return RetryError.TLS_REQUIRED;
    }
    if (r.contains("auth")) {
      return RetryError.AUTH_FAILED;
    }
    if (r.contains("connection") || r.contains("closed") || r.contains("reset")) {
      return RetryError.LOST_CONNECTION;
    }
    return RetryError.OTHER;
  }

  /** The retry-rule error of a 4xx reply, from the command it answered. */
  static RetryError replyError(String text) {
    if (text.contains("after MAIL")) {
      return RetryError.MAIL_4XX;
    }
    if (text.contains("after RCPT")) {
      return RetryError.RCPT_4XX;
    }
    return RetryError.DATA_4XX;
  }
}
