package org.postern.session;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.Shareable;
import org.postern.config.PosternConfig;
import org.postern.config.StorageChecks;
import org.postern.spool.FileSystemSpace;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Exim's {@code check_spool_space}, {@code check_spool_inodes}, {@code check_log_space} and
 * {@code check_log_inodes} at MAIL: a client is told 452 before it uploads a message the disk cannot
 * take, not 451 after. statvfs(2) runs on a worker thread (never on the event loop) and its reading
 * is shared by every session of this Vert.x instance for {@link #TTL_NANOS}, so a burst of MAILs
 * costs one system call per second, not one each.
 */
final class StorageCheck implements Shareable {
  private static final String MAP = "postern.storage";
  static final long TTL_NANOS = TimeUnit.SECONDS.toNanos(1);
  /** Exim adds this to SIZE= for the Received: header, the envelope and the like. */
  private static final long OVERHEAD = 5000;

  private record Reading(Path spool, Path log, long at, FileSystemSpace spoolSpace, FileSystemSpace logSpace) {
  }

  private volatile Reading last;

  static StorageCheck of(Vertx vertx) {
    return (StorageCheck) vertx.sharedData().<String, Shareable>getLocalMap(MAP)
        .computeIfAbsent("check", k -> new StorageCheck());
  }

  /**
   * Null when the message may come, else the reason for the main log (Exim's words).
   *
   * @param declaredSize the MAIL's {@code SIZE=}, or -1
   */
  Future<String> shortage(Vertx vertx, PosternConfig config, long declaredSize) {
    StorageChecks checks = config.storage();
    long needed = checks.spoolSpace() + (declaredSize >= 0 ? declaredSize + OVERHEAD : 0);
    if (needed <= 0 && checks.spoolInodes() <= 0 && checks.logSpace() <= 0 && checks.logInodes() <= 0) {
      return Future.succeededFuture(null);
    }
    return reading(vertx, config.spoolDirectory(), config.logDirectory()).map(r -> {
      String spool = check("spool", r.spoolSpace(), needed, checks.spoolInodes());
      return spool != null ? spool : check("log", r.logSpace(), checks.logSpace(), checks.logInodes());
    });
  }

  private static String check(String which, FileSystemSpace fs, long bytes, long inodes) {
    boolean space = fs.freeBytes() >= 0 && fs.freeBytes() < bytes;
    boolean files = fs.freeInodes() >= 0 && fs.freeInodes() < inodes;
    return space || files ? which + " directory space check failed: space=" + fs.freeBytes() / 1024
        + " inodes=" + fs.freeInodes() : null;
  }

  private Future<Reading> reading(Vertx vertx, Path spool, Path log) {
    Reading r = last;
    if (r != null && r.spool().equals(spool) && r.log().equals(log) && System.nanoTime() - r.at() < TTL_NANOS) {
      return Future.succeededFuture(r);
    }
    return vertx.executeBlocking(() -> {
      Reading fresh = new Reading(spool, log, System.nanoTime(), FileSystemSpace.of(spool), FileSystemSpace.of(log));
      last = fresh;
      return fresh;
    }, false);
  }
}
