package org.postern.cli;

import org.postern.queue.QueueListing;
import org.postern.spool.Envelope;
import org.postern.spool.Spool;

import java.io.IOException;
import java.io.PrintStream;
import java.time.Instant;
import java.util.List;

/**
 * {@code -bp}, {@code -bpu} and {@code -bpc}: the queue read straight from the spool, so it works
 * with or without a running daemon ({@link QueueListing#read}).
 */
final class QueueList {
  /** Which of Exim's listings. */
  enum Kind { ALL, UNDELIVERED, COUNT }

  private final Spool spool;

  QueueList(Spool spool) {
    this.spool = spool;
  }

  /** Prints the listing; the exit status is always 0 (an empty queue prints nothing, or 0). */
  int print(Kind kind, PrintStream out) throws IOException {
    List<Envelope> envelopes = QueueListing.read(spool);
    out.print(switch (kind) {
      case ALL -> QueueListing.list(envelopes, Instant.now());
      case UNDELIVERED -> QueueListing.listUndelivered(envelopes, Instant.now());
      case COUNT -> QueueListing.count(envelopes);
    });
    out.flush();
    return 0;
  }
}
