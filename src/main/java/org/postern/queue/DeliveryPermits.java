package org.postern.queue;

import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.Supplier;

/**
 * At most {@code limit} tasks at once, the rest waiting their turn in order: the queue's remote
 * deliveries ({@code remote_max_parallel}) and its messages in progress. Used from one verticle's
 * context only.
 */
final class DeliveryPermits {
  private final Deque<Runnable> waiting = new ArrayDeque<>();
  private int limit;
  private int running;

  DeliveryPermits(int limit) {
    this.limit = limit;
  }

  /** A new limit (configuration reload); takes effect as deliveries finish or start. */
  void limit(int limit) {
    this.limit = limit;
    drain();
  }

  <T> Future<T> run(Supplier<Future<T>> delivery) {
    return run(delivery, () -> { });
  }

  /** As {@link #run(Supplier)}; {@code whenWaiting} runs once if the task has to wait for its turn. */
  <T> Future<T> run(Supplier<Future<T>> delivery, Runnable whenWaiting) {
    Promise<T> result = Promise.promise();
    boolean[] started = {false};
    waiting.addLast(() -> {
      started[0] = true;
      running++;
      Future<T> f;
      try {
        f = delivery.get();
      } catch (RuntimeException e) {
        f = Future.failedFuture(e);
      }
      f.onComplete(ar -> {
        running--;
        drain();
        result.handle(ar);
      });
    });
    drain();
    if (!started[0]) {
      whenWaiting.run();
    }
    return result.future();
  }

  private void drain() {
    while (running < limit && !waiting.isEmpty()) {
      waiting.pollFirst().run();
    }
  }
}
