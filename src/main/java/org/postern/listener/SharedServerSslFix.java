package org.postern.listener;

import io.vertx.core.net.NetServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.reflect.Field;

/**
 * Works around a Vert.x 5.0.7 defect: when several verticle instances listen on the same port,
 * only the first (the "main" server) gets an {@code SslContextManager}; sockets accepted through
 * the others carry null, and {@code NetSocket.upgradeToSsl} fails on them with a
 * NullPointerException, so STARTTLS would work on one connection in N. After {@code listen()},
 * this gives a secondary server the main server's manager. Removable once Vert.x passes the main
 * server's manager itself. Public for the benchmark's STARTTLS sink (org.postern.bench.TlsSmtpSink).
 */
public final class SharedServerSslFix {
  private static final Logger LOG = LoggerFactory.getLogger(SharedServerSslFix.class);

  private SharedServerSslFix() {
  }

  /** Returns true when the server can upgrade sockets to TLS (fixed or not needing a fix). */
  public static boolean apply(NetServer server) {
    try {
      Class<?> type = server.getClass();
      Field manager = field(type, "sslContextManager");
      if (manager.get(server) != null) {
        return true;
      }
      Object main = field(type, "actualServer").get(server);
      if (main == null || main == server) {
        return false;
      }
      manager.set(server, manager.get(main));
      return manager.get(server) != null;
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.warn("cannot share the TLS context manager between listener instances ({}): STARTTLS may fail on"
          + " some connections; deploy ListenerVerticle with \"instances\": 1", e.toString());
      return false;
    }
  }

  /** A declared field of {@code type} or a superclass, made accessible. */
  static Field field(Class<?> type, String name) throws NoSuchFieldException {
    for (Class<?> c = type; c != null; c = c.getSuperclass()) {
      try {
        Field f = c.getDeclaredField(name);
        f.setAccessible(true);
        return f;
      } catch (NoSuchFieldException e) {
        // Look further up.
      }
    }
    throw new NoSuchFieldException(name);
  }
}
