package org.postern.cli;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.slf4j.LoggerFactory;

/**
 * The daemon's Vert.x on Netty's epoll transport where its native library loads (linux-x86_64 is
 * shipped): fewer system calls and copies per read than NIO's selector, and the socket options
 * NIO lacks (TCP_QUICKACK for the milter client). Elsewhere Vert.x falls back to NIO, and the
 * start-up log says which one runs and why.
 */
final class NativeTransport {
  private NativeTransport() {
  }

  static VertxOptions options() {
    return new VertxOptions().setPreferNativeTransport(true);
  }

  static void log(Vertx vertx) {
    var log = LoggerFactory.getLogger(NativeTransport.class);
    if (vertx.isNativeTransportEnabled()) {
      log.info("transport: native epoll");
    } else {
      Throwable cause = vertx.unavailableNativeTransportCause();
      log.info("transport: NIO (native epoll unavailable: {})", cause == null ? "not asked for" : cause.toString());
    }
  }
}
