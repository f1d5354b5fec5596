package org.postern.delivery;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.postern.delivery.smtp.SmtpClientConnection;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Open SMTP connections waiting for the next message to the same host through the same
 * transport, so a queue run sends several messages over one connection as Exim does. Each is
 * closed with QUIT after {@code idle} milliseconds without use. Used from one verticle's context
 * only; not thread-safe.
 */
final class IdleConnections {
  private record Idle(SmtpClientConnection connection, long timer) {
  }

  private final Vertx vertx;
  private final long idleMillis;
  private final Map<String, Deque<Idle>> idle = new HashMap<>();

  IdleConnections(Vertx vertx, long idleMillis) {
    this.vertx = vertx;
    this.idleMillis = idleMillis;
  }

  /** A usable idle connection for the key, taken out of the pool, or null. */
  SmtpClientConnection take(String key) {
    Deque<Idle> list = idle.get(key);
    while (list != null && !list.isEmpty()) {
      Idle i = list.pollFirst();
      vertx.cancelTimer(i.timer());
      if (i.connection().usable()) {
        return i.connection();
      }
      i.connection().quit();
    }
    return null;
  }

  /** Keeps a connection for reuse when it can take another message; closes it otherwise. */
  void release(String key, SmtpClientConnection connection) {
    if (!connection.usable()) {
      connection.quit();
      return;
    }
    Deque<Idle> list = idle.computeIfAbsent(key, k -> new ArrayDeque<>());
    long[] timer = new long[1];
    timer[0] = vertx.setTimer(idleMillis, t -> {
      list.removeIf(i -> i.timer() == timer[0]);
      connection.quit();
    });
    list.addLast(new Idle(connection, timer[0]));
  }

  /** Says QUIT on every idle connection and closes it; completes when all have (QUIT never fails). */
  Future<Void> closeAll() {
    List<Future<Void>> quits = new ArrayList<>();
    idle.values().forEach(list -> list.forEach(i -> {
      vertx.cancelTimer(i.timer());
      quits.add(i.connection().quit());
    }));
    idle.clear();
    return Future.join(quits).mapEmpty();
  }
}
