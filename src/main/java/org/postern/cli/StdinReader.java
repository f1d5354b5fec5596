package org.postern.cli;

import io.vertx.core.Context;
import io.vertx.core.buffer.Buffer;

import java.io.IOException;
import java.io.InputStream;
import java.util.function.Consumer;

/**
 * Reads standard input on its own thread (reading blocks) and hands each chunk to the session's
 * event-loop context, in order. Pausable, so a large batch is read only as fast as it is spooled.
 */
final class StdinReader implements Runnable {
  private final InputStream in;
  private final Context context;
  private final Consumer<Buffer> onData;
  private final Runnable onEnd;
  private final Object lock = new Object();
  private boolean paused;
  private volatile boolean stopped;

  StdinReader(InputStream in, Context context, Consumer<Buffer> onData, Runnable onEnd) {
    this.in = in;
    this.context = context;
    this.onData = onData;
    this.onEnd = onEnd;
  }

  void start() {
    Thread t = new Thread(this, "postern-stdin");
    t.setDaemon(true);
    t.start();
  }

  void pause() {
    synchronized (lock) {
      paused = true;
    }
  }

  void resume() {
    synchronized (lock) {
      paused = false;
      lock.notifyAll();
    }
  }

  void stop() {
    stopped = true;
    resume();
  }

  @Override
  public void run() {
    byte[] buf = new byte[16 * 1024];
    try {
      while (!stopped) {
        synchronized (lock) {
          while (paused && !stopped) {
            lock.wait();
          }
        }
        int n = in.read(buf);
        if (n < 0) {
          break;
        }
        Buffer chunk = Buffer.buffer(n).appendBytes(buf, 0, n);
        context.runOnContext(v -> onData.accept(chunk));
      }
    } catch (IOException | InterruptedException e) {
      // End of input either way: the session sees a disconnect.
    }
    context.runOnContext(v -> onEnd.run());
  }
}
