package org.postern.bus;

import io.vertx.core.Vertx;
import io.vertx.core.eventbus.EventBus;

import java.util.function.Function;

/**
 * Registers the {@link LocalCodec}s of the node-local hot-path records as default codecs, once per
 * Vert.x instance: every verticle that sends or receives them calls {@link #register} at start,
 * and only the first call registers.
 */
public final class BusCodecs {
  private static final String MAP = "postern.bus";

  private BusCodecs() {
  }

  public static void register(Vertx vertx) {
    // computeIfAbsent on a local map is atomic: instances starting on several event loops at once register once.
    vertx.sharedData().<String, Boolean>getLocalMap(MAP).computeIfAbsent("codecs", k -> {
      EventBus bus = vertx.eventBus();
      add(bus, SessionOpen.class, SessionOpen::toJson, SessionOpen::fromJson);
      add(bus, SessionCommand.class, SessionCommand::toJson, SessionCommand::fromJson);
      add(bus, SessionData.class, SessionData::toJson, SessionData::fromJson);
      add(bus, SessionTls.class, SessionTls::toJson, SessionTls::fromJson);
      add(bus, SessionClose.class, SessionClose::toJson, SessionClose::fromJson);
      add(bus, SessionResponse.class, SessionResponse::toJson, SessionResponse::fromJson);
      add(bus, Ack.class, Ack::toJson, Ack::fromJson);
      add(bus, AclCheck.class, AclCheck::toJson, AclCheck::fromJson);
      add(bus, AclVerdict.class, AclVerdict::toJson, AclVerdict::fromJson);
      return true;
    });
  }

  private static <T> void add(EventBus bus, Class<T> type, Function<T, io.vertx.core.json.JsonObject> toJson,
                              Function<io.vertx.core.json.JsonObject, T> fromJson) {
    bus.registerDefaultCodec(type, new LocalCodec<>(type, toJson, fromJson));
  }
}
