package org.postern.bus;

import io.vertx.core.Vertx;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonObject;

import java.util.function.Function;

/**
 * Registers the {@link LocalCodec}s of the node-local hot-path records (session, ACL check,
 * AUTH, enqueue, delivery) as default codecs, once per Vert.x instance: every verticle that sends or
 * receives them calls {@link #register} at start, and only the first call registers. Control and
 * plugin-facing traffic ({@code postern.queue.flush}, {@code postern.acl.condition.*}) stays JSON.
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
      add(bus, SessionList.class, SessionList::toJson, SessionList::fromJson);
      add(bus, AclCheck.class, AclCheck::toJson, AclCheck::fromJson);
      add(bus, AclVerdict.class, AclVerdict::toJson, AclVerdict::fromJson);
      add(bus, AuthStep.class, AuthStep::toJson, AuthStep::fromJson);
      add(bus, AuthReply.class, AuthReply::toJson, AuthReply::fromJson);
      add(bus, AuthCancel.class, AuthCancel::toJson, AuthCancel::fromJson);
      add(bus, EnqueueRequest.class, EnqueueRequest::toJson, EnqueueRequest::fromJson);
      add(bus, EnqueueReply.class, EnqueueReply::toJson, EnqueueReply::fromJson);
      add(bus, LocalDeliveryRequest.class, LocalDeliveryRequest::toJson, LocalDeliveryRequest::fromJson);
      add(bus, LocalDeliveryReply.class, LocalDeliveryReply::toJson, LocalDeliveryReply::fromJson);
      add(bus, DeliveryRequest.class, DeliveryRequest::toJson, DeliveryRequest::fromJson);
      add(bus, DeliveryResult.class, DeliveryResult::toJson, DeliveryResult::fromJson);
      return true;
    });
  }

  /** The codec {@link #register} installs for a record type (tests check its wire form). */
  static <T> LocalCodec<T> codec(Class<T> type, Function<T, JsonObject> toJson, Function<JsonObject, T> fromJson) {
    return new LocalCodec<>(type, toJson, fromJson);
  }

  private static <T> void add(EventBus bus, Class<T> type, Function<T, JsonObject> toJson,
                              Function<JsonObject, T> fromJson) {
    bus.registerDefaultCodec(type, codec(type, toJson, fromJson));
  }
}
