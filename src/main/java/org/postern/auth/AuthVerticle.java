package org.postern.auth;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.authentication.AuthenticationProvider;
import io.vertx.ext.auth.properties.PropertyFileAuthentication;
import org.postern.expand.Expansion;
import org.postern.expand.ExpansionException;
import org.postern.bus.Addresses;
import org.postern.bus.AuthCancel;
import org.postern.bus.AuthReply;
import org.postern.bus.AuthStep;
import org.postern.bus.BusCodecs;
import org.postern.config.AuthenticatorConfig;
import org.postern.config.ConfigHolder;
import org.postern.config.PosternConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The authenticators: serves {@code postern.auth.<MECHANISM>} (PLAIN, LOGIN, CRAM-MD5,
 * SCRAM-SHA-256), an {@link AuthStep} in and an {@link AuthReply} out, and forgets an exchange on
 * {@code postern.auth.cancel} ({@link AuthCancel}). On success it applies the authenticator's
 * {@code server_condition} and {@code server_set_id}, and answers without the {@code $auth} values.
 * It runs as one instance: it holds each exchange between its steps. It keeps the
 * {@link AuthFailureWindows}: an exchange from an address whose windows are full is answered
 * {@code throttled} at once, and every password check runs under a reservation in them. It knows
 * nothing about SMTP states: the session decides what to reply. Secrets never appear in replies or
 * logs.
 */
public final class AuthVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(AuthVerticle.class);
  private static final List<String> MECHANISMS = List.of("PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-256");
  private static final long EXCHANGE_TTL_MS = 10 * 60_000L;

  private final Map<String, Pending> exchanges = new HashMap<>();
  private final Clock clock;
  private ConfigHolder config;
  private PasswdAuthenticationProvider provider;
  private io.vertx.core.WorkerExecutor workers;
  private java.nio.file.Path propertiesFile;
  private AuthenticationProvider propertiesProvider;
  private AuthFailureWindows failureWindows;

  private record Pending(SaslExchange exchange, String mechanism, long started) {
  }

  public AuthVerticle() {
    this(Clock.systemUTC());
  }

  /** With the clock that exchanges expire and the failure windows count in (tests move it). */
  public AuthVerticle(Clock clock) {
    this.clock = clock;
  }

  @Override
  public Future<?> start() {
    BusCodecs.register(vertx);
    config = ConfigHolder.of(vertx);
    // Fewer threads than cores: bcrypt saturating every core would delay every session's replies.
    int threads = config().getInteger("auth_threads", Math.max(1, Runtime.getRuntime().availableProcessors() - 1));
    workers = vertx.createSharedWorkerExecutor("postern-auth", threads);
    provider = new PasswdAuthenticationProvider(config, workers);
    failureWindows = new AuthFailureWindows(vertx, clock::millis);
    vertx.setPeriodic(60_000, t -> exchanges.values().removeIf(p -> clock.millis() - p.started() > EXCHANGE_TTL_MS));
    List<Future<?>> registered = new java.util.ArrayList<>();
    for (String mechanism : MECHANISMS) {
      registered.add(vertx.eventBus().<AuthStep>localConsumer(Addresses.AUTH_PREFIX + mechanism,
          m -> step(mechanism, m)).completion());
    }
    registered.add(vertx.eventBus().<AuthCancel>localConsumer(Addresses.AUTH_CANCEL,
        m -> exchanges.remove(m.body().exchange())).completion());
    return Future.all(registered);
  }

  private void step(String mechanism, Message<AuthStep> msg) {
    AuthStep step = msg.body();
    PosternConfig c = config.generation(step.generation());
    AuthenticatorConfig authenticator = c.auth().mechanism(mechanism);
    if (authenticator == null) {
      msg.fail(504, "mechanism not configured");
      return;
    }
    String host = step.variables().getString("sender_host_address", "");
    Pending pending = exchanges.get(step.exchange());
    if (step.first() || pending == null || !pending.mechanism().equals(mechanism)) {
      exchanges.remove(step.exchange());
      // Before any prompt: a full window refuses the exchange, not its last step.
      failureWindows.blocked(c.auth(), host).onComplete(blocked -> {
        if (blocked.succeeded() && blocked.result() != null) {
          msg.reply(AuthReply.throttled(null, "too many recent failures from " + blocked.result()));
          return;
        }
        Pending created = new Pending(create(authenticator, c, host), mechanism, clock.millis());
        exchanges.put(step.exchange(), created);
        run(authenticator, created, step, msg);
      });
      return;
    }
    run(authenticator, pending, step, msg);
  }

  private void run(AuthenticatorConfig authenticator, Pending pending, AuthStep step, Message<AuthStep> msg) {
    pending.exchange().step(step.response()).onComplete(r -> {
      AuthReply result = r.succeeded() ? r.result() : AuthReply.temporaryFailure("internal error");
      if (r.failed()) {
        LOG.error("{} authenticator failed internally", authenticator.name(), r.cause());
      }
      if (result.status() != AuthReply.Status.CHALLENGE) {
        exchanges.remove(step.exchange());
      }
      if (result.status() == AuthReply.Status.SUCCESS) {
        result = finish(authenticator, result, step.variables());
      }
      msg.reply(result);
    });
  }

  /**
   * server_condition, then server_set_id; an authzid other than the user needs server_condition,
   * whichever mechanism carried it (SCRAM used to ignore it while PLAIN refused it, issue 11).
   */
  private static AuthReply finish(AuthenticatorConfig a, AuthReply result, JsonObject variables) {
    JsonObject vars = variables.copy();
    for (int i = 0; i < result.auth().size(); i++) {
      vars.put("auth" + (i + 1), result.auth().get(i));
    }
    java.util.function.Function<String, String> lookup = name -> {
      Object v = vars.getValue(name);
      return v == null ? null : String.valueOf(v);
    };
    try {
      if (a.serverCondition() != null && !a.serverCondition().condition(lookup)) {
        return AuthReply.failure(result.user(), "server_condition failed");
      }
    } catch (ExpansionException e) {
      LOG.error("{} authenticator: server_condition: {}", a.name(), e.getMessage());
      return AuthReply.failure(result.user(), "server_condition could not be evaluated");
    }
    String authzid = authzid(a.publicName(), result.auth());
    if (!authzid.isEmpty() && !authzid.equals(result.user()) && a.serverCondition() == null) {
      return AuthReply.failure(result.user(), "authorization identity differs from the user");
    }
    Expansion setId = a.serverSetId();
    String id;
    try {
      id = setId == null ? result.user() : setId.expand(lookup);
    } catch (ExpansionException e) {
      LOG.error("{} authenticator: server_set_id: {}", a.name(), e.getMessage());
      return AuthReply.failure(result.user(), "server_set_id could not be expanded");
    }
    return AuthReply.success(id.isEmpty() ? result.user() : id, List.of());
  }

  /** The authorization identity among a mechanism's $auth values (PLAIN: $auth1, SCRAM: $auth2), or "". */
  private static String authzid(String mechanism, List<String> auth) {
    int at = switch (mechanism) {
      case "PLAIN" -> 0;
      case "SCRAM-SHA-256" -> 1;
      default -> -1;
    };
    return at >= 0 && at < auth.size() ? auth.get(at) : "";
  }

  /**
   * The Vert.x Auth provider PLAIN and LOGIN check passwords with: conf/passwd, or another provider
   * chosen by {@code auth_provider}. Rebuilt when the configuration names another one.
   */
  private AuthenticationProvider provider(PosternConfig c) {
    java.nio.file.Path file = c.auth().propertiesFile();
    if (file == null) {
      return provider;
    }
    if (!file.equals(propertiesFile)) {
      propertiesFile = file;
      propertiesProvider = PropertyFileAuthentication.create(vertx, file.toString());
    }
    return propertiesProvider;
  }

  private SaslExchange create(AuthenticatorConfig a, PosternConfig c, String host) {
    FailureWindowGate gate = new FailureWindowGate(failureWindows, c.auth(), host);
    return switch (a.publicName()) {
      case "PLAIN" -> new PlainExchange(provider(c), gate);
      case "LOGIN" -> new LoginExchange(provider(c), gate, a.serverPrompts());
      case "CRAM-MD5" -> new CramMd5Exchange(c.users(), c.primaryHostname(), gate);
      default -> new ScramExchange(c.users(), workers, gate);
    };
  }
}
