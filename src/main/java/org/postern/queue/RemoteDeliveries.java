package org.postern.queue;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.postern.config.PosternConfig;
import org.postern.config.RetryError;
import org.postern.config.RetryRule;
import org.postern.config.RetryRules;
import org.postern.config.RetrySchedule;
import org.postern.config.RouterConfig;
import org.postern.config.SmtpTransportOptions;
import org.postern.delivery.SmtpDeliveryVerticle;
import org.postern.delivery.smtp.RemoteHost;
import org.postern.log.MainLog;
import org.postern.spool.Envelope;
import org.postern.spool.Spool;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The remote part of a message's delivery attempt: routes the recipients (one routing per
 * domain), skips destinations whose retry time has not come, sends each group of recipients that
 * share a transport and host list once, through {@code postern.deliver.smtp}, and applies the
 * per-recipient results: main-log lines in Exim's words, retry records, and failures for the bounce.
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

  RemoteDeliveries(Vertx vertx, WorkerExecutor workers, Spool spool, RetryDatabase retry, RemoteRouter router,
                   DeliveryPermits permits, Clock clock) {
    this.vertx = vertx;
    this.workers = workers;
    this.spool = spool;
    this.retry = retry;
    this.router = router;
    this.permits = permits;
    this.clock = clock;
  }

  /** Recipients that go to the same hosts through the same router and transport. */
  private record Group(RouterConfig router, List<RemoteHost> hosts, List<String> recipients) {
  }

  Future<Void> deliver(MessageAttempt a, List<Envelope.Recipient> recipients, PosternConfig c) {
    permits.limit(c.delivery().remoteMaxParallel());
    Instant now = clock.instant();
    Instant arrival = Instant.ofEpochMilli(a.envelope().receivedAt());
    Map<String, List<String>> byDomain = new LinkedHashMap<>();
    for (Envelope.Recipient r : recipients) {
      if (!a.force() && !addressDue(r.address(), r.domain(), now, arrival, c)) {
        MainLog.write(a.id() + " == " + r.address() + ": " + RETRY_NOT_REACHED);
        continue;
      }
      byDomain.computeIfAbsent(r.domain().toLowerCase(Locale.ROOT), d -> new ArrayList<>()).add(r.address());
    }
    List<Future<Void>> done = new ArrayList<>();
    for (Map.Entry<String, List<String>> e : byDomain.entrySet()) {
      done.add(router.route(c, e.getKey()).compose(d -> routed(a, e.getKey(), e.getValue(), d, c, now, arrival))
          .onFailure(err -> LOG.warn("{}: delivery to {} not attempted: {}", a.id(), e.getValue(), err.toString())));
    }
    return Future.join(done).transform(ar -> a.save(workers, spool));
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
      for (String address : addresses) {
        MainLog.write(a.id() + " ** " + address + (f.router() == null ? "" : " R=" + f.router().name()) + ": "
            + f.reason());
        a.fail(BounceRequest.FailedRecipient.local(address, f.reason(), now));
      }
      return Future.succeededFuture();
    }
    RemoteRouter.Deferred f = (RemoteRouter.Deferred) d;
    return workers.executeBlocking(() -> {
      List<BounceRequest.FailedRecipient> failed = new ArrayList<>();
      for (String address : addresses) {
        RetryRule rule = c.delivery().retryRules().find(address, domain, RetryError.OTHER, 0);
        if (retry.recordFailure(RetryDatabase.addressKey(address), RetryError.OTHER, f.reason(), now, rule, arrival)
            .giveUp()) {
          failed.add(timedOut(a, address, " R=" + f.router().name(), f.reason(), now));
        } else {
          MainLog.write(a.id() + " == " + address + " R=" + f.router().name() + " defer: " + f.reason());
        }
      }
      return failed;
    }, false).map(failed -> {
      failed.forEach(a::fail);
      return null;
    });
  }

  private Future<Void> hosts(MessageAttempt a, String domain, List<String> addresses, RemoteRouter.Routed r,
                             PosternConfig c, Instant now, Instant arrival) {
    String tags = " R=" + r.router().name() + " T=" + r.router().transport();
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
      for (String address : addresses) {
        if (allExpired) {
          a.fail(timedOut(a, address, tags, "all hosts have been failing for a long time", now));
        } else {
          MainLog.write(a.id() + " == " + address + tags + " defer: " + RETRY_NOT_REACHED + " for any host");
        }
      }
      return Future.succeededFuture();
    }
    SmtpTransportOptions transport = c.delivery().transports().get(r.router().transport());
    if (transport != null && due.size() > transport.hostsMaxTry()) {
      // Exim's hosts_max_try: the hosts beyond it wait for the next attempt (their retry records are untouched).
      due = due.subList(0, transport.hostsMaxTry());
    }
    Group g = new Group(r.router(), due, addresses);
    return permits.run(() -> send(a, g)).compose(reply -> apply(a, domain, g, reply, c, now, arrival));
  }

  private Future<JsonObject> send(MessageAttempt a, Group g) {
    JsonArray hosts = new JsonArray();
    g.hosts().forEach(h -> hosts.add(new JsonObject().put("name", h.name()).put("address", h.address())
        .put("port", h.port())));
    Envelope e = a.envelope();
    JsonObject request = new JsonObject().put("id", a.id()).put("transport", g.router().transport())
        .put("data_file", spool.dataFile(a.id()).toString()).put("sender", e.sender())
        .put("size", e.size()).put("eight_bit", "8BITMIME".equalsIgnoreCase(e.bodyType()))
        .put("recipients", new JsonArray(new ArrayList<>(g.recipients()))).put("hosts", hosts);
    return vertx.eventBus().<JsonObject>request(SmtpDeliveryVerticle.ADDRESS, request,
            new DeliveryOptions().setLocalOnly(true).setSendTimeout(SEND_TIMEOUT))
        .map(m -> m.body())
        .recover(err -> {
          JsonArray results = new JsonArray();
          g.recipients().forEach(rcpt -> results.add(new JsonObject().put("address", rcpt).put("status", "deferred")
              .put("code", 0).put("text", "smtp transport unavailable: " + err.getMessage())));
          return Future.succeededFuture(new JsonObject().put("results", results).put("host_problems", new JsonArray()));
        });
  }

  /** Logs and records one group's results; retry records are written on a worker. */
  private Future<Void> apply(MessageAttempt a, String domain, Group g, JsonObject reply, PosternConfig c,
                             Instant now, Instant arrival) {
    String tags = " R=" + g.router().name() + " T=" + g.router().transport();
    RetryRules rules = c.delivery().retryRules();
    List<BounceRequest.FailedRecipient> failed = new ArrayList<>();
    return workers.executeBlocking(() -> {
      JsonArray problems = reply.getJsonArray("host_problems", new JsonArray());
      boolean hostsGiveUp = !problems.isEmpty();
      for (int i = 0; i < problems.size(); i++) {
        JsonObject p = problems.getJsonObject(i);
        RemoteHost h = new RemoteHost(p.getString("name"), p.getString("address"), p.getInteger("port", 25));
        String reason = p.getString("reason", "");
        RetryError kind = hostError(reason);
        RetrySchedule.Outcome o = retry.recordFailure(hostKey(h), kind, reason, now,
            rules.find(h.nameOrAddress(), domain, kind, 0), arrival);
        hostsGiveUp &= o.giveUp();
      }
      JsonArray results = reply.getJsonArray("results", new JsonArray());
      List<JsonObject> list = new ArrayList<>();
      for (int i = 0; i < results.size(); i++) {
        list.add(results.getJsonObject(i));
      }
      for (JsonObject r : list) {
        String address = r.getString("address");
        String status = r.getString("status");
        int code = r.getInteger("code", 0);
        String text = r.getString("text", "");
        JsonObject hj = r.getJsonObject("host");
        RemoteHost host = hj == null ? null
            : new RemoteHost(hj.getString("name"), hj.getString("address"), hj.getInteger("port", 25));
        String h = host == null ? "" : " H=" + host;
        switch (status) {
          case "delivered" -> {
            MainLog.write(a.id() + " => " + address + tags + h
                + (r.getString("tls") == null ? "" : " " + r.getString("tls"))
                + (r.getString("authenticator") == null ? "" : " A=" + r.getString("authenticator"))
                + " C=\"" + text.replace("\"", "\\\"") + "\"");
            retry.recordSuccess(RetryDatabase.addressKey(address));
            retry.recordSuccess(hostKey(host));
          }
          case "failed" -> {
            MainLog.write(a.id() + " ** " + address + tags + h + ": " + text);
            failed.add(BounceRequest.FailedRecipient.remote(address, host == null ? null : host.nameOrAddress(),
                host == null ? null : host.address(), null, code, r.getString("enhanced"), text, now));
          }
          default -> {
            boolean giveUp;
            if (code > 0) {
              RetryError kind = replyError(text);
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
            } else {
              MainLog.write(a.id() + " == " + address + tags + h + " defer: " + text);
            }
          }
        }
      }
      return list;
    }, false).compose(list -> {
      failed.forEach(a::fail);
      list.stream().filter(r -> "delivered".equals(r.getString("status")))
          .forEach(r -> a.deliveredRemotely(r.getString("address")));
      return a.save(workers, spool);
    });
  }

  private static BounceRequest.FailedRecipient timedOut(MessageAttempt a, String address, String tags, String reason,
                                                        Instant now) {
    MainLog.write(a.id() + " ** " + address + tags + ": " + RetryDatabase.RETRY_TIMEOUT_EXCEEDED + " (" + reason + ")");
    return BounceRequest.FailedRecipient.local(address, RetryDatabase.RETRY_TIMEOUT_EXCEEDED + ": " + reason, now);
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
