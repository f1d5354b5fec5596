package org.postern.testing;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import org.postern.bus.Addresses;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A stand-in queue for command-line tests, deployed through a test {@code verticles.json}: appends
 * each {@code postern.queue.flush} request (one JSON line) to {@code record_file} and answers
 * {@code {started: <started>}}, or never answers when {@code answer} is false.
 */
public final class RecordingQueueFlushVerticle extends VerticleBase {
  @Override
  public Future<?> start() {
    Path file = Path.of(config().getString("record_file"));
    int started = config().getInteger("started", 0);
    boolean answer = config().getBoolean("answer", true);
    return vertx.eventBus().<JsonObject>localConsumer(Addresses.QUEUE_FLUSH, msg ->
        vertx.executeBlocking(() -> Files.writeString(file, msg.body().encode() + "\n", StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND))
            .onComplete(written -> {
              if (answer) {
                msg.reply(new JsonObject().put("started", started));
              }
            })).completion();
  }
}
