package org.postern.queue;

import org.postern.bus.QueueFlushRequest;
import org.postern.spool.Envelope;

import java.util.Locale;

/**
 * Which messages a queue run takes and how: Exim's {@code -q} (everything due), {@code -qf}
 * (force: retry times are ignored), {@code -R domain} and ETRN (only messages with a pending
 * recipient in the domain, or with {@code subdomains} also below it; the whole message is then
 * attempted) and {@code -M id} (just these messages). Frozen messages are taken only with
 * {@code thaw}, Exim's {@code -M} and {@code -qff}, which thaw them before the attempt.
 *
 * @param domain     only messages with a pending recipient in this domain (case-insensitive), or null for all
 * @param subdomains with {@code domain}: its subdomains too (ETRN {@code @domain})
 * @param force      ignore retry times, as Exim's {@code -qf}
 * @param ids        only these messages, or empty for no restriction
 * @param thaw       frozen messages too, thawed first ({@code -M}, {@code -qff})
 */
public record QueueRunFilter(String domain, boolean subdomains, boolean force, java.util.Set<String> ids,
                             boolean thaw) {
  /** An ordinary queue run: every message, retry times respected. */
  public static final QueueRunFilter ALL = new QueueRunFilter(null, false);

  public QueueRunFilter {
    domain = domain == null || domain.isBlank() ? null : domain.strip().toLowerCase(Locale.ROOT);
    ids = ids == null ? java.util.Set.of() : java.util.Set.copyOf(ids);
  }

  public QueueRunFilter(String domain, boolean force) {
    this(domain, false, force, null, false);
  }

  /** The filter a {@code postern.queue.flush} request asks for. */
  public static QueueRunFilter of(QueueFlushRequest request) {
    return new QueueRunFilter(request.domain(), request.subdomains(), request.force(),
        java.util.Set.copyOf(request.ids()), request.thaw());
  }

  /** True when the message is one this run attempts. */
  public boolean selects(Envelope envelope) {
    if (envelope.frozen() && !thaw) {
      return false;
    }
    if (!ids.isEmpty()) {
      return ids.contains(envelope.id());
    }
    return domain == null || envelope.recipients().stream()
        .anyMatch(r -> r.state() == Envelope.Recipient.State.PENDING && inDomain(r.domain()));
  }

  private boolean inDomain(String recipientDomain) {
    String d = recipientDomain.toLowerCase(Locale.ROOT);
    return d.equals(domain) || (subdomains && d.endsWith("." + domain));
  }
}
