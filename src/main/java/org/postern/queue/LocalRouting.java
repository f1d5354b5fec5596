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

  /**
   * What the main-log lines of one attempt at a mailbox say after Exim's {@code =>}, {@code ==} or
   * {@code **}: the mailbox, the recipient that led to it, the router and the transport.
   */
  static String tags(String mailbox, String recipient, String router) {
    return " " + mailbox + " <" + recipient + "> R=" + router + " T=" + TRANSPORT;
  }

  /** The main-log line of one delivery into a mailbox. */
  static String deliveredLine(String id, String mailbox, String recipient, String router) {
    return id + " =>" + tags(mailbox, recipient, router);
  }

  /**
   * The routing decision for one message. {@code expanded} holds the recipients an alias turned
   * into several (RFC 3461 6.2.7.3: they report {@code Action: expanded} to NOTIFY=SUCCESS, their
   * children do not); {@code added} the remote alias targets, with the DSN values they inherit.
   */
  record Plan(Map<String, Set<String>> mailboxesByRecipient, Set<String> unknown, List<Envelope.Recipient> added,
              Set<String> expanded) {
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
    Set<String> expanded = new LinkedHashSet<>();
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
      boolean several = resolution.mailboxes().size() + resolution.remoteAddresses().size() > 1;
      if (several) {
        expanded.add(r.address());
      }
      String notify = several ? withoutSuccess(r.dsnNotify()) : r.dsnNotify();
      for (String target : resolution.remoteAddresses()) {
        // RFC 3461 6.2.7.1/6.2.7.3: NOTIFY and ORCPT go on with the redirected recipient.
        Envelope.Recipient child = Envelope.Recipient.pending(target);
        added.add(new Envelope.Recipient(child.address(), child.localPart(), child.domain(), child.state(), notify,
            r.dsnOrcpt()));
      }
    }
    return new Plan(mailboxes, unknown, added, expanded);
  }

  /**
   * RFC 3461 6.2.7.3: after an expansion the success is reported here ({@code expanded}), so the
   * new recipients do not ask for it again; with nothing else left they ask for nothing (NEVER),
   * rather than for the failures and delays the sender did not want.
   */
  static String withoutSuccess(String notify) {
    if (notify == null) {
      return null;
    }
    String rest = java.util.Arrays.stream(notify.split(",")).filter(e -> !e.equals("SUCCESS"))
        .collect(java.util.stream.Collectors.joining(","));
    return rest.isEmpty() ? "NEVER" : rest;
  }
}
