package org.postern.testing;

import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The events published on one bus address ({@code postern.config.refused}, ...) since the recorder
 * was registered, for a test to wait on: "the change was refused" is an event, not the absence of
 * one after a pause.
 */
public final class PublishedEvents implements AutoCloseable {
  private final List<JsonObject> seen = new CopyOnWriteArrayList<>();
  private final String address;
  private final MessageConsumer<JsonObject> consumer;

  private PublishedEvents(Vertx vertx, String address) {
    this.address = address;
    this.consumer = vertx.eventBus().consumer(address, m -> seen.add(m.body()));
  }

  /** Starts recording {@code address}; returns once the consumer is registered, so no event is missed. */
  public static PublishedEvents on(Vertx vertx, String address) throws Exception {
    PublishedEvents events = new PublishedEvents(vertx, address);
    events.consumer.completion().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    return events;
  }

  /** The events so far, oldest first. */
  public List<JsonObject> seen() {
    return List.copyOf(seen);
  }

  /** Waits up to {@code millis} for the {@code n}th event (1-based) since registration; returns it. */
  public JsonObject awaitNth(int n, long millis) throws Exception {
    Await.until(n + " event(s) on " + address + " (seen " + seen + ")", millis, () -> seen.size() >= n);
    return seen.get(n - 1);
  }

  /** Waits up to {@code millis} for an event that {@code matches}; returns the first one. */
  public JsonObject await(long millis, Predicate<JsonObject> matches) throws Exception {
    Await.until("an event on " + address + " matching the test (seen " + seen + ")", millis,
        () -> seen.stream().anyMatch(matches));
    return seen.stream().filter(matches).findFirst().orElseThrow();
  }

  @Override
  public void close() throws Exception {
    consumer.unregister().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
