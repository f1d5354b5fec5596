package org.postern.bus;

import io.netty.channel.EventLoop;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.shareddata.Shareable;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * The instances of one verticle on this node, by the event loop they run on: how a connection
 * finds the session instance on its own event loop (no thread hop, and the same instance for every
 * command), and a session the ACL instance on its loop. One directory per service and Vert.x
 * instance. Vert.x gives consecutive instances consecutive event loops, so as many instances as
 * event loops cover every loop; with fewer, a loop without one falls back to the first instance.
 *
 * @param <T> what a caller needs to reach an instance (its addresses)
 */
public final class InstanceDirectory<T> implements Shareable {
  private static final String MAP = "postern.instances";

  private record Entry<T>(EventLoop loop, T value) {
  }

  private final AtomicInteger numbers = new AtomicInteger();
  /** Every registered instance by number: the first is the fallback. */
  private final ConcurrentSkipListMap<Integer, Entry<T>> instances = new ConcurrentSkipListMap<>();
  /** The first instance registered on each event loop. */
  private final Map<EventLoop, T> byLoop = new ConcurrentHashMap<>();

  @SuppressWarnings("unchecked")
  public static <T> InstanceDirectory<T> of(Vertx vertx, String service) {
    return (InstanceDirectory<T>) vertx.sharedData().<String, Shareable>getLocalMap(MAP)
        .computeIfAbsent(service, k -> new InstanceDirectory<T>());
  }

  /**
   * Registers the instance running on {@code context}; {@code value} builds what reaches it (its
   * addresses) from a number unique in this directory. Returns that value.
   */
  public T register(Context context, IntFunction<T> value) {
    int n = numbers.getAndIncrement();
    Entry<T> entry = new Entry<>(loop(context), value.apply(n));
    instances.put(n, entry);
    byLoop.putIfAbsent(entry.loop(), entry.value());
    return entry.value();
  }

  /** Removes an instance (undeployed); another instance on its loop, if any, takes its place. */
  public void unregister(T value) {
    Entry<T> gone = instances.values().stream().filter(e -> e.value().equals(value)).findFirst().orElse(null);
    if (gone == null) {
      return;
    }
    instances.values().remove(gone);
    byLoop.remove(gone.loop(), gone.value());
    instances.values().stream().filter(e -> e.loop() == gone.loop()).findFirst()
        .ifPresent(e -> byLoop.putIfAbsent(e.loop(), e.value()));
  }

  /** The instance on {@code context}'s event loop, or null when that loop has none. */
  public T onLoopOf(Context context) {
    return byLoop.get(loop(context));
  }

  /** The instance on {@code context}'s event loop, else the first one; null when there is none. */
  public T forContext(Context context) {
    T own = onLoopOf(context);
    if (own != null) {
      return own;
    }
    Map.Entry<Integer, Entry<T>> first = instances.firstEntry();
    return first == null ? null : first.getValue().value();
  }

  /** Every registered instance, in registration order (the admin API asks each for its sessions). */
  public java.util.List<T> all() {
    return instances.values().stream().map(Entry::value).toList();
  }

  private static EventLoop loop(Context context) {
    return ((ContextInternal) context).nettyEventLoop();
  }
}
