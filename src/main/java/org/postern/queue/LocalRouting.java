package org.postern.queue;

import org.postern.config.LocalUsers;
import org.postern.config.PosternConfig;
import org.postern.spool.Envelope;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Routes the pending recipients of a message the way Exim's default routers do for local domains:
 * aliases first, then local mailboxes. Remote domains are left for the remote routers.
 */
final class LocalRouting {
  /** The local router's name when no {@code routers:} list names one, and the local transport's. */
  static final String ROUTER = "localuser";
  static final String TRANSPORT = "maildir";

  /** The configured local router's name ({@code R=} of local deliveries), else {@link #ROUTER}. */
  static String routerName(PosternConfig c) {
    List<org.postern.config.RouterConfig> routers = c.delivery().routers();
    if (routers != null) {
      for (org.postern.config.RouterConfig r : routers) {
        if (r.driver() == org.postern.config.RouterConfig.Driver.LOCAL) {
          return r.name();
        }
      }
    }
    return ROUTER;
  }

  /** The routing decision for one message. */
  record Plan(Map<String, Set<String>> mailboxesByRecipient, Set<String> unknown, List<Envelope.Recipient> added) {
    Set<String> allMailboxes() {
      Set<String> all = new LinkedHashSet<>();
      mailboxesByRecipient.values().forEach(all::addAll);
      return all;
    }
  }

  private LocalRouting() {
  }

  /** The plan for these recipients (a message's pending ones, or one tested address). */
  static Plan plan(List<Envelope.Recipient> recipients, PosternConfig config) {
    Map<String, Set<String>> mailboxes = new LinkedHashMap<>();
    Set<String> unknown = new LinkedHashSet<>();
    List<Envelope.Recipient> added = new ArrayList<>();
    LocalUsers users = config.users();
    for (Envelope.Recipient r : recipients) {
      if (r.state() != Envelope.Recipient.State.PENDING || !config.localDomains().matches(r.domain())) {
        continue;
      }
      LocalUsers.Resolution resolution = users.resolve(r.localPart());
      if (resolution.mailboxes().isEmpty() && resolution.remoteAddresses().isEmpty()) {
        unknown.add(r.address());
        continue;
      }
      mailboxes.put(r.address(), new LinkedHashSet<>(resolution.mailboxes()));
      for (String target : resolution.remoteAddresses()) {
        added.add(Envelope.Recipient.pending(target));
      }
    }
    return new Plan(mailboxes, unknown, added);
  }
}
