package org.postern.listener;

import io.vertx.core.Vertx;
import io.vertx.core.shareddata.Shareable;

import java.util.concurrent.atomic.AtomicReference;

/**
 * The TLS profiles in force on this node, swapped atomically by {@link TlsVerticle} when the
 * configuration or the certificate files change. Empty while TLS is unavailable (no usable
 * certificate): STARTTLS is then not advertised and answered 454.
 */
public final class TlsState implements Shareable {
  /** Local event published after the profiles changed; TLS-on-connect listeners re-apply them. */
  public static final String CHANGED = "postern.tls.changed";
  private final AtomicReference<TlsProfiles> current = new AtomicReference<>();

  public static TlsState of(Vertx vertx) {
    return (TlsState) vertx.sharedData().<String, Shareable>getLocalMap("postern.listener")
        .computeIfAbsent("tls", k -> new TlsState());
  }

  /** The profiles, or null when TLS is unavailable. */
  public TlsProfiles current() {
    return current.get();
  }

  void set(TlsProfiles profiles) {
    current.set(profiles);
  }
}
