package org.postern.listener;

import io.vertx.core.Vertx;
import io.vertx.core.shareddata.Shareable;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts open SMTP connections, in total and per client address, and TLS handshakes in progress,
 * across every listener instance of one node ({@code smtp_accept_max}, {@code smtp_accept_max_per_host},
 * {@code tls_handshake_max}).
 */
public final class ConnectionLimiter implements Shareable {
  /** Why a connection was refused, or {@link #ACCEPTED}. */
  public enum Admission { ACCEPTED, TOO_MANY, TOO_MANY_FROM_HOST, TOO_MANY_HANDSHAKES }

  private final AtomicInteger total = new AtomicInteger();
  private final AtomicInteger handshakes = new AtomicInteger();
  /** Counts per address, changed only inside {@code compute}: atomic per key across event loops. */
  private final ConcurrentHashMap<String, Integer> perHost = new ConcurrentHashMap<>();

  public static ConnectionLimiter of(Vertx vertx) {
    return (ConnectionLimiter) vertx.sharedData().<String, Shareable>getLocalMap("postern.listener")
        .computeIfAbsent("limiter", k -> new ConnectionLimiter());
  }

  /** Counts the connection in when admitted; {@code 0} means no limit. The caller must {@link #release} it. */
  public Admission admit(String host, int maxTotal, int maxPerHost) {
    if (total.incrementAndGet() > maxTotal && maxTotal > 0) {
      total.decrementAndGet();
      return Admission.TOO_MANY;
    }
    if (!countIn(host, maxPerHost)) {
      total.decrementAndGet();
      return Admission.TOO_MANY_FROM_HOST;
    }
    return Admission.ACCEPTED;
  }

  /**
   * Counts an admitted connection under another address from now on: a PROXY header named the real
   * client behind a load balancer. Refused when that client is at {@code maxPerHost} ({@code 0}: no
   * limit); the connection then stays counted under {@code from} until it is released.
   */
  public Admission move(String from, String to, int maxPerHost) {
    if (from.equals(to)) {
      return Admission.ACCEPTED;
    }
    if (!countIn(to, maxPerHost)) {
      return Admission.TOO_MANY_FROM_HOST;
    }
    countOut(from);
    return Admission.ACCEPTED;
  }

  public void release(String host) {
    total.decrementAndGet();
    countOut(host);
  }

  private boolean countIn(String host, int maxPerHost) {
    boolean[] admitted = {true};
    perHost.compute(host, (h, count) -> {
      int n = count == null ? 0 : count;
      if (maxPerHost > 0 && n >= maxPerHost) {
        admitted[0] = false;
        return count;
      }
      return n + 1;
    });
    return admitted[0];
  }

  private void countOut(String host) {
    perHost.computeIfPresent(host, (h, count) -> count <= 1 ? null : count - 1);
  }

  /** Takes a handshake slot when one is free; {@code 0} means no limit. The caller must {@link #endHandshake} it. */
  public boolean startHandshake(int max) {
    if (handshakes.incrementAndGet() > max && max > 0) {
      handshakes.decrementAndGet();
      return false;
    }
    return true;
  }

  public void endHandshake() {
    handshakes.decrementAndGet();
  }
}
