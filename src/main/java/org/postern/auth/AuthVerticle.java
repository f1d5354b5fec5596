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
import org.postern.config.AuthenticatorConfig;
import org.postern.config.ConfigHolder;
import org.postern.config.PosternConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The authenticators: serves {@code postern.auth.<MECHANISM>} (PLAIN, LOGIN, CRAM-MD5,
 * SCRAM-SHA-256). Request {@code {exchange, first, response?, variables}} (response base64, absent
 * when the client sent no initial response); reply a {@link SaslResult}. On success it applies the
 * authenticator's {@code server_condition} and {@code server_set_id}. It knows nothing about SMTP
 * states: the session decides what to reply. Secrets never appear in replies or logs.
 */
public final class AuthVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(AuthVerticle.class);
  private static final List<String> MECHANISMS = List.of("PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-256");
  private static final long EXCHANGE_TTL_MS = 10 * 60_000L;

  private final Map<String, Pending> exchanges = new HashMap<>();
  private ConfigHolder config;
  private PasswdAuthenticationProvider provider;
  private io.vertx.core.WorkerExecutor workers;
  private java.nio.file.Path propertiesFile;
  private AuthenticationProvider propertiesProvider;

  private record Pending(SaslExchange exchange, String mechanism, long started) {
  }

  @Override
  public Future<?> start() {
    config = ConfigHolder.of(vertx);
    // Fewer threads than cores: bcrypt saturating every core would delay every session's replies.
    int threads = config().getInteger("auth_threads", Math.max(1, Runtime.getRuntime().availableProcessors() - 1));
    workers = vertx.createSharedWorkerExecutor("postern-auth", threads);
    provider = new PasswdAuthenticationProvider(config, workers);
    vertx.setPeriodic(60_000, t -> exchanges.values().removeIf(p -> System.currentTimeMillis() - p.started() > EXCHANGE_TTL_MS));
    List<Future<?>> registered = new java.util.ArrayList<>();
    for (String mechanism : MECHANISMS) {
      registered.add(vertx.eventBus().<JsonObject>localConsumer(Addresses.AUTH_PREFIX + mechanism,
          m -> step(mechanism, m)).completion());
    }
    registered.add(vertx.eventBus().<JsonObject>localConsumer(Addresses.AUTH_PREFIX + "cancel",
        m -> exchanges.remove(m.body().getString("exchange"))).completion());
    return Future.all(registered);
  }

  private void step(String mechanism, Message<JsonObject> msg) {
    JsonObject body = msg.body();
    PosternConfig c = config.generation(body.getString("generation"));
    AuthenticatorConfig authenticator = c.auth().mechanism(mechanism);
    String id = body.getString("exchange");
    if (authenticator == null || id == null) {
      msg.fail(504, "mechanism not configured");
      return;
    }
    Pending pending = exchanges.get(id);
    if (body.getBoolean("first", false) || pending == null || !pending.mechanism().equals(mechanism)) {
      pending = new Pending(create(authenticator, c), mechanism, System.currentTimeMillis());
      exchanges.put(id, pending);
    }
    byte[] response;
    try {
      String encoded = body.getString("response");
      response = encoded == null ? null : Base64.getDecoder().decode(encoded);
    } catch (IllegalArgumentException e) {
      exchanges.remove(id);
      msg.reply(SaslResult.failure(null, "bad base64").toJson());
      return;
    }
    JsonObject variables = body.getJsonObject("variables", new JsonObject());
    pending.exchange().step(response).onComplete(r -> {
      SaslResult result = r.succeeded() ? r.result() : SaslResult.failure(null, "internal error");
      if (r.failed()) {
        LOG.error("{} authenticator failed internally", authenticator.name(), r.cause());
      }
      if (result.status() != SaslResult.Status.CHALLENGE) {
        exchanges.remove(id);
      }
      if (result.status() == SaslResult.Status.SUCCESS) {
        result = finish(authenticator, result, variables);
      }
      msg.reply(result.toJson().put("authenticator", authenticator.name()));
    });
  }

  /** server_condition, then server_set_id; an authzid other than the user needs server_condition. */
  private static SaslResult finish(AuthenticatorConfig a, SaslResult result, JsonObject variables) {
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
        return SaslResult.failure(result.user(), "server_condition failed");
      }
    } catch (ExpansionException e) {
      LOG.error("{} authenticator: server_condition: {}", a.name(), e.getMessage());
      return SaslResult.failure(result.user(), "server_condition could not be evaluated");
    }
    boolean plainWithOtherAuthzid = a.publicName().equals("PLAIN") && !result.auth().get(0).isEmpty()
        && !result.auth().get(0).equals(result.user());
    if (plainWithOtherAuthzid && a.serverCondition() == null) {
      return SaslResult.failure(result.user(), "authorization identity differs from the user");
    }
    Expansion setId = a.serverSetId();
    String id;
    try {
      id = setId == null ? result.user() : setId.expand(lookup);
    } catch (ExpansionException e) {
      LOG.error("{} authenticator: server_set_id: {}", a.name(), e.getMessage());
      return SaslResult.failure(result.user(), "server_set_id could not be expanded");
    }
    return SaslResult.success(id.isEmpty() ? result.user() : id, List.of());
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

  private SaslExchange create(AuthenticatorConfig a, PosternConfig c) {
    return switch (a.publicName()) {
      case "PLAIN" -> new PlainExchange(provider(c));
      case "LOGIN" -> new LoginExchange(provider(c), a.serverPrompts());
      case "CRAM-MD5" -> new CramMd5Exchange(c.users(), c.primaryHostname());
      default -> new ScramExchange(c.users(), workers);
    };
  }
}
