package org.postern.session;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import org.postern.bus.FilterRequest;
import org.postern.bus.FilterVerdict;
import org.postern.bus.SessionFilters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * Asks the deployed session filters ({@link SessionFilters}) at a hook, in their order: the first
 * answer other than {@code continue} decides. With no filter deployed a hook costs one list check
 * and no bus hop. A filter that fails, does not answer within its time or answers nonsense gets
 * its own {@code default_action}, so a dead milter never lets mail through by mistake.
 */
final class FilterClient {
  private static final Logger LOG = LoggerFactory.getLogger(FilterClient.class);
  private static final Future<FilterVerdict> CONTINUE = Future.succeededFuture(FilterVerdict.CONTINUE);

  private final Vertx vertx;
  private final SessionFilters filters;

  FilterClient(Vertx vertx) {
    this.vertx = vertx;
    this.filters = SessionFilters.of(vertx);
  }

  /** True when some filter is deployed (else the hooks cost nothing). */
  boolean active() {
    return !filters.isEmpty();
  }

  /** Asks every filter in turn; {@code edited} accumulates, so later ones see the rewritten file. */
  Future<FilterVerdict> ask(FilterRequest request) {
    if (filters.isEmpty()) {
      return CONTINUE;
    }
    return askFrom(filters.list(), 0, request, FilterVerdict.CONTINUE);
  }

  private Future<FilterVerdict> askFrom(List<SessionFilters.Filter> list, int index, FilterRequest request,
                                        FilterVerdict sofar) {
    if (index >= list.size()) {
      return Future.succeededFuture(sofar);
    }
    SessionFilters.Filter filter = list.get(index);
    DeliveryOptions options = new DeliveryOptions().setLocalOnly(true).setSendTimeout(filter.timeoutMillis());
    return vertx.eventBus().<JsonObject>request(filter.address(), request.toJson(), options)
        .map(reply -> FilterVerdict.fromJson(reply.body()))
        .recover(e -> {
          LOG.warn("session filter {} at {}: {}; applying its default action {}", filter.address(),
              request.hook().wire(), e.getMessage(), filter.onFailure().type().wire());
          return Future.succeededFuture(filter.onFailure().withReason(filter.address() + ": " + e.getMessage()));
        })
        .compose(verdict -> {
          FilterVerdict merged = merge(sofar, verdict);
          if (verdict.type() != FilterVerdict.Type.CONTINUE) {
            return Future.succeededFuture(merged);
          }
          FilterRequest next = verdict.edited() ? new FilterRequest(request.session(), request.hook(),
              request.variables(), request.argument(), request.messageId(), request.dataFile(),
              request.prefixLength(), "") : request;
          return askFrom(list, index + 1, next, merged);
        });
  }

  /** The later filter's verdict, with the file edits and envelope changes of the earlier ones kept. */
  private static FilterVerdict merge(FilterVerdict earlier, FilterVerdict later) {
    List<String> add = new java.util.ArrayList<>(earlier.addRecipients());
    add.addAll(later.addRecipients());
    List<String> delete = new java.util.ArrayList<>(earlier.deleteRecipients());
    delete.addAll(later.deleteRecipients());
    return new FilterVerdict(later.type(), later.code(), later.enhanced(), later.text(), later.reason(),
        earlier.edited() || later.edited(), later.sender() != null ? later.sender() : earlier.sender(), add, delete);
  }

  /** Tells every filter, without waiting: {@code reset} and {@code close}. */
  void tell(FilterRequest request) {
    if (filters.isEmpty()) {
      return;
    }
    JsonObject body = request.toJson();
    for (SessionFilters.Filter filter : filters.list()) {
      vertx.eventBus().send(filter.address(), body, new DeliveryOptions().setLocalOnly(true));
    }
  }
}
