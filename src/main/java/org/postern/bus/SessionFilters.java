package org.postern.bus;

import io.vertx.core.Vertx;
import io.vertx.core.shareddata.Shareable;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The session filters deployed on this node, in the order they registered: how a session knows,
 * without a bus hop, whether anyone wants its {@link FilterHook}s. With none registered a session
 * pays one list check per hook. A filter verticle registers at start and unregisters at stop.
 */
public final class SessionFilters implements Shareable {
  private static final String MAP = "postern.filters";

  /**
   * One filter: where it is asked ({@link FilterRequest} in JSON, {@link FilterVerdict} in JSON
   * out), how long the session waits for it, and what a missing or malformed answer means (the
   * filter's {@code default_action}).
   */
  public record Filter(String address, long timeoutMillis, FilterVerdict onFailure) {
  }

  private final List<Filter> filters = new CopyOnWriteArrayList<>();

  public static SessionFilters of(Vertx vertx) {
    return (SessionFilters) vertx.sharedData().<String, Shareable>getLocalMap(MAP)
        .computeIfAbsent("filters", k -> new SessionFilters());
  }

  public void register(Filter filter) {
    filters.add(filter);
  }

  public void unregister(Filter filter) {
    filters.remove(filter);
  }

  /** True when no filter is deployed: sessions skip every hook. */
  public boolean isEmpty() {
    return filters.isEmpty();
  }

  /** The filters in registration order (a snapshot). */
  public List<Filter> list() {
    return List.copyOf(filters);
  }
}
