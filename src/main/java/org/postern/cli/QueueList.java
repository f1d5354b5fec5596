package org.postern.cli;

import org.postern.queue.QueueListing;
import org.postern.spool.Spool;

import java.io.IOException;
import java.io.PrintStream;

/**
 * {@code -bp}, {@code -bpu} and {@code -bpc}: the queue read straight from the spool, so it works
 * with or without a running daemon.
 */
final class QueueList {
  private final Spool spool;

  QueueList(Spool spool) {
    this.spool = spool;
  }

  /** Prints the listing; the exit status is always 0 (an empty queue prints nothing, or 0). */
  int print(QueueListing.Kind kind, PrintStream out) throws IOException {
    out.print(QueueListing.of(kind, spool));
    out.flush();
    return 0;
  }
}
