package org.postern.queue;

import org.postern.spool.Envelope;
import org.postern.spool.Spool;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Exim's queue listings, character for character as {@code queue_list()} in Exim's queue.c prints
 * them, so that scripts written for {@code exim -bp} (exiqgrep, exiqsumm, awk one-liners) work:
 * <pre>
 * 25m  2.9K 1abcDE-0000AB-Cd &lt;alice@example.org&gt;
 *           bob@example.net
 *         D carol@example.net
 *
 * </pre>
 * One line per message: time on the queue ({@code %2dm}, then {@code %2dh} past 90 minutes, then
 * {@code %2dd} past 72 hours), the size in Exim's five-column format, the id, the sender in angle
 * brackets and {@code *** frozen ***} when frozen; then each recipient after eight spaces and
 * {@code "D "} or two spaces, delivered (and failed) ones marked {@code D}; then an empty line.
 */
public final class QueueListing {
  /** Which of Exim's listings. */
  public enum Kind { ALL, UNDELIVERED, COUNT }

  private QueueListing() {
  }

  /**
   * The listing of what is on {@code spool} now, read straight from it (blocking): the command
   * line's {@code -bp}, and each node's part of {@code -bp --cluster}.
   */
  public static String of(Kind kind, Spool spool) throws IOException {
    List<Envelope> envelopes = read(spool);
    return switch (kind) {
      case ALL -> list(envelopes, Instant.now());
      case UNDELIVERED -> listUndelivered(envelopes, Instant.now());
      case COUNT -> count(envelopes);
    };
  }

  /**
   * The envelopes on the queue, read straight from the spool (the listings and the admin API): a
   * message delivered between the directory listing and the reading of its envelope is simply not
   * there. Blocking.
   */
  public static List<Envelope> read(Spool spool) throws IOException {
    List<Envelope> envelopes = new ArrayList<>();
    for (String id : spool.list()) {
      try {
        envelopes.add(spool.readEnvelope(id));
      } catch (NoSuchFileException gone) {
        // Completed or removed meanwhile: no longer on the queue.
      }
    }
    return envelopes;
  }

  /** {@code -bp}: every recipient, done ones marked {@code D}. */
  public static String list(List<Envelope> envelopes, Instant now) {
    return render(envelopes, now, true);
  }

  /** {@code -bpu}: only the recipients still to be delivered. */
  public static String listUndelivered(List<Envelope> envelopes, Instant now) {
    return render(envelopes, now, false);
  }

  /** {@code -bpc}: the number of messages, and a newline. */
  public static String count(List<Envelope> envelopes) {
    return envelopes.size() + "\n";
  }

  private static String render(List<Envelope> envelopes, Instant now, boolean showDone) {
    StringBuilder sb = new StringBuilder();
    for (Envelope e : envelopes) {
      sb.append(age(now.getEpochSecond() - e.receivedAt() / 1000)).append(' ')
          .append(size(e.size())).append(' ')
          .append(e.id())
          .append(" <").append(e.sender()).append('>');
      // RFC 3461's values after the address (Exim's -bp shows none), so that scripts reading the first fields still work.
      appendIfSet(sb, " RET=", e.dsnRet());
      appendIfSet(sb, " ENVID=", e.dsnEnvid());
      if (e.frozen()) {
        sb.append(" *** frozen ***");
      }
      sb.append('\n');
      for (Envelope.Recipient r : e.recipients()) {
        boolean done = r.state() != Envelope.Recipient.State.PENDING;
        if (!done || showDone) {
          sb.append("        ").append(done ? "D" : " ").append(' ').append(r.address());
          appendIfSet(sb, " NOTIFY=", r.dsnNotify());
          appendIfSet(sb, " ORCPT=", r.dsnOrcpt());
          sb.append('\n');
        }
      }
      sb.append('\n');
    }
    return sb.toString();
  }

  private static void appendIfSet(StringBuilder sb, String name, String value) {
    if (value != null) {
      sb.append(name).append(PrintableText.escape(value));
    }
  }

  /**
   * Exim: minutes up to 90, then rounded hours up to 72, then rounded days. A clock that went
   * backwards shows 0m rather than a negative age.
   */
  static String age(long seconds) {
    long minutes = Math.max(0, seconds) / 60;
    if (minutes > 90) {
      long hours = (minutes + 30) / 60;
      return hours > 72 ? String.format(Locale.ROOT, "%2dd", (hours + 12) / 24)
          : String.format(Locale.ROOT, "%2dh", hours);
    }
    return String.format(Locale.ROOT, "%2dm", minutes);
  }

  /** Exim's {@code string_format_size()}: five columns, blank for zero. */
  static String size(long size) {
    if (size <= 0) {
      return "     ";
    } else if (size < 1024) {
      return String.format(Locale.ROOT, "%5d", size);
    } else if (size < 10 * 1024) {
      return String.format(Locale.ROOT, "%4.1fK", size / 1024.0);
    } else if (size < 1024 * 1024) {
      return String.format(Locale.ROOT, "%4dK", (size + 512) / 1024);
    } else if (size < 10 * 1024 * 1024) {
      return String.format(Locale.ROOT, "%4.1fM", size / (1024.0 * 1024.0));
    }
    return String.format(Locale.ROOT, "%4dM", (size + 512 * 1024) / (1024 * 1024));
  }
}
