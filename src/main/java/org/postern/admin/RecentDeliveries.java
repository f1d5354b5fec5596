package org.postern.admin;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import org.postern.log.MainLog;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * {@code GET /log/recent}: the latest deliveries ({@code =>}), deferrals ({@code ==}) and failures
 * ({@code **}) of the main log, newest last, as the status page shows them. Only the file's tail is
 * read ({@link #TAIL_BYTES}), on a worker thread.
 */
final class RecentDeliveries {
  static final int TAIL_BYTES = 64 * 1024;
  static final int MAX_LINES = 20;
  /** {@code <date> <time> <id> <marker> ...}: Exim's delivery markers. */
  private static final Pattern OUTCOME = Pattern.compile("^\\S+ \\S+ \\S+ (=>|==|\\*\\*|->) .*");

  private final Vertx vertx;

  RecentDeliveries(Vertx vertx) {
    this.vertx = vertx;
  }

  void handle(RoutingContext ctx) {
    Path file = MainLog.file();
    vertx.executeBlocking(() -> tail(file), false).onComplete(r -> {
      if (r.failed()) {
        AdminJson.error(ctx, 500, "cannot read the main log: " + r.cause().getMessage());
      } else {
        AdminJson.ok(ctx, new JsonObject().put("lines", new JsonArray(r.result())));
      }
    });
  }

  static List<String> tail(Path file) throws IOException {
    byte[] bytes;
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
      long start = Math.max(0, f.length() - TAIL_BYTES);
      bytes = new byte[(int) (f.length() - start)];
      f.seek(start);
      f.readFully(bytes);
    } catch (java.io.FileNotFoundException | NoSuchFileException nothingLoggedYet) {
      return List.of();
    }
    List<String> lines = new ArrayList<>(new String(bytes, StandardCharsets.UTF_8).lines()
        .filter(l -> OUTCOME.matcher(l).matches()).toList());
    return lines.subList(Math.max(0, lines.size() - MAX_LINES), lines.size());
  }
}
