package org.postern.listener;

import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import org.postern.spool.Spool;

/**
 * The spool and the worker pool that does its blocking file work. The pool is large on purpose:
 * concurrent fsyncs let the file system commit many messages in one journal transaction.
 */
public record SpoolContext(Spool spool, WorkerExecutor workers) {
  public static final String POOL = "postern-spool";

  public static SpoolContext of(Vertx vertx, Spool spool) {
    return new SpoolContext(spool, vertx.createSharedWorkerExecutor(POOL, 64));
  }
}
