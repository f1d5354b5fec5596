package org.postern.metrics;

import io.vertx.core.eventbus.Message;

/** Counts what one kind of bus traffic says; called by {@link MetricsVerticle}'s interceptor for every message sent. */
interface BusObserver {
  /**
   * @param message the message on its way (its address, and for a request its reply address)
   * @param body    its body as sent (a record of {@code bus} for node-local traffic)
   * @param now     epoch milliseconds
   */
  void sent(Message<?> message, Object body, long now);

  /** Drops what waited for an outcome since before {@code olderThan}. */
  void sweep(long olderThan);
}
