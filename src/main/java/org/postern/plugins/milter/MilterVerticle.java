package org.postern.plugins.milter;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import org.postern.bus.Addresses;
import org.postern.bus.FilterHook;
import org.postern.bus.FilterRequest;
import org.postern.bus.FilterVerdict;
import org.postern.bus.SessionFilters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The bundled milter client (off by default): a session filter that puts every SMTP session
 * through the configured milters (Sendmail milter protocol version 6, as Postfix speaks it), for
 * OpenDKIM, OpenDMARC, rspamd or clamav-milter. One {@code verticles.json} entry, one instance:
 * <pre>{ "name": "org.postern.plugins.milter.MilterVerticle",
 *   "config": { "milters": ["inet:127.0.0.1:8891"], "default_action": "tempfail" } }</pre>
 * Options: {@link MilterSettings}. It registers in {@link SessionFilters} and serves
 * {@code postern.filter.milter}; undeployed, it says QUIT to its milters and sessions stop asking.
 */
public final class MilterVerticle extends VerticleBase {
  /** The bus address of this filter. */
  public static final String ADDRESS = Addresses.FILTER_PREFIX + "milter";
  private static final Logger LOG = LoggerFactory.getLogger(MilterVerticle.class);

  private MilterSettings settings;
  private final Map<String, MilterConversation> sessions = new HashMap<>();
  private List<NetClient> clients;
  private SessionFilters.Filter registration;
  private MessageConsumer<JsonObject> consumer;

  @Override
  public Future<?> start() {
    try {
      settings = MilterSettings.from(config());
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    clients = settings.milters().stream().map(m -> vertx.createNetClient(new NetClientOptions()
        .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, m.connectTimeout().toMillis())).setTcpNoDelay(true)))
        .toList();
    FilterVerdict onFailure = switch (settings.strictest()) {
      case ACCEPT -> FilterVerdict.CONTINUE;
      case TEMPFAIL -> FilterVerdict.of(FilterVerdict.Type.TEMPFAIL);
      case REJECT -> FilterVerdict.of(FilterVerdict.Type.REJECT);
    };
    registration = new SessionFilters.Filter(ADDRESS, settings.sessionTimeoutMillis(), onFailure);
    consumer = vertx.eventBus().localConsumer(ADDRESS, this::hook);
    return consumer.completion().onSuccess(v -> {
      SessionFilters.of(vertx).register(registration);
      LOG.info("milter client: {} milter(s): {}", settings.milters().size(),
          settings.milters().stream().map(MilterSettings.Milter::name).toList());
    });
  }

  @Override
  public Future<?> stop() {
    SessionFilters.of(vertx).unregister(registration);
    sessions.values().forEach(c -> c.handle(new FilterRequest(null, FilterHook.CLOSE, null, null,
        null, null, 0, null)));
    sessions.clear();
    return Future.succeededFuture();
  }

  private void hook(Message<JsonObject> msg) {
    FilterRequest request;
    try {
      request = FilterRequest.fromJson(msg.body());
    } catch (RuntimeException e) {
      msg.fail(400, "not a filter request: " + e.getMessage());
      return;
    }
    MilterConversation c = sessions.computeIfAbsent(request.session(),
        id -> new MilterConversation(vertx, settings.milters(), clients));
    Future<FilterVerdict> verdict = c.handle(request);
    if (request.hook() == FilterHook.CLOSE) {
      sessions.remove(request.session());
    }
    if (!request.hook().notification()) {
      verdict.onComplete(r -> msg.reply(r.succeeded() ? r.result().toJson()
          : registration.onFailure().withReason("milter: " + r.cause().getMessage()).toJson()));
    }
  }
}
