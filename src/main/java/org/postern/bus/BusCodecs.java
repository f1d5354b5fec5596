package org.postern.bus;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageCodec;
import io.vertx.core.json.JsonObject;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;

/**
 * Local message codecs for {@link BusRecord}s, so node-local hot-path traffic passes the immutable
 * record itself ({@code transform} returns the same object: no JSON, no copy). A message that
 * crosses the wire (a clustered bus) travels as the record's JSON form.
 *
 * <p>Every verticle that sends or consumes records registers them in its {@code start()}; a record
 * already registered in that Vert.x is skipped, so any number of verticles (and instances) may ask:
 * {@code BusCodecs.register(vertx, EnqueueRequest.class, EnqueueReply.class)}.
 */
public final class BusCodecs {
  /** The record types registered so far, per event bus (the bus itself allows one default codec per type). */
  private static final Map<EventBus, Set<Class<?>>> REGISTERED = new WeakHashMap<>();

  private BusCodecs() {
  }

  /** Registers a default codec for each of the record types not yet registered in {@code vertx}. */
  @SafeVarargs
  public static void register(Vertx vertx, Class<? extends BusRecord>... types) {
    EventBus bus = vertx.eventBus();
    synchronized (REGISTERED) {
      Set<Class<?>> done = REGISTERED.computeIfAbsent(bus, b -> new HashSet<>());
      for (Class<? extends BusRecord> type : types) {
        if (done.add(type)) {
          register(bus, type);
        }
      }
    }
  }

  private static <T extends BusRecord> void register(EventBus bus, Class<T> type) {
    bus.registerDefaultCodec(type, new RecordCodec<>(type));
  }

  /** One record type's codec: itself locally, its JSON form (length-prefixed) on the wire. */
  static final class RecordCodec<T extends BusRecord> implements MessageCodec<T, T> {
    private final Class<T> type;
    private final MethodHandle fromJson;

    RecordCodec(Class<T> type) {
      this.type = type;
      try {
        fromJson = MethodHandles.publicLookup()
            .findStatic(type, "fromJson", MethodType.methodType(type, JsonObject.class));
      } catch (ReflectiveOperationException e) {
        throw new IllegalArgumentException(type.getName() + " has no public static fromJson(JsonObject)", e);
      }
    }

    @Override
    public void encodeToWire(Buffer buffer, T record) {
      Buffer json = record.toJson().toBuffer();
      buffer.appendInt(json.length()).appendBuffer(json);
    }

    @Override
    public T decodeFromWire(int pos, Buffer buffer) {
      int length = buffer.getInt(pos);
      JsonObject json = new JsonObject(buffer.getBuffer(pos + 4, pos + 4 + length));
      try {
        return type.cast(fromJson.invoke(json));
      } catch (RuntimeException | Error e) {
        throw e;
      } catch (Throwable e) {
        throw new IllegalStateException(e);
      }
    }

    @Override
    public T transform(T record) {
      return record;
    }

    @Override
    public String name() {
      return type.getName();
    }

    @Override
    public byte systemCodecID() {
      return -1;
    }
  }
}
