package org.postern.queue;

import org.postern.spool.Envelope;

import java.util.Locale;

/**
 * Which messages a queue run takes and how: Exim's {@code -q} (everything due), {@code -qf}
 * (force: retry times are ignored) and {@code -R domain} (only messages with a pending recipient
 * in the domain; the whole message is then attempted).
 *
 * @param domain only messages with a pending recipient in this domain (case-insensitive), or null for all
 * @param force  ignore retry times, as Exim's {@code -qf}
 */
public record QueueRunFilter(String domain, boolean force) {
  /** An ordinary queue run: every message, retry times respected. */
  public static final QueueRunFilter ALL = new QueueRunFilter(null, false);

  public QueueRunFilter {
    domain = domain == null || domain.isBlank() ? null : domain.strip().toLowerCase(Locale.ROOT);
  }

  /** True when the message is one this run attempts. */
  public boolean selects(Envelope envelope) {
    if (envelope.frozen()) {
      return false;
    }
    return domain == null || envelope.recipients().stream()
        .anyMatch(r -> r.state() == Envelope.Recipient.State.PENDING && r.domain().equalsIgnoreCase(domain));
  }
}
