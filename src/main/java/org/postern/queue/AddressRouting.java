package org.postern.queue;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.postern.bus.RemoteHost;
import org.postern.config.PosternConfig;
import org.postern.config.RouterConfig;
import org.postern.dns.DnsResolvers;
import org.postern.spool.Envelope;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;

/**
 * Where the queue would deliver one recipient, found without delivering: the local routing
 * (aliases, then mailboxes) and the remote routers, as a delivery attempt runs them, for Exim's
 * address testing ({@code -bt}). Retry times and {@code hosts_max_try} are left out: they decide
 * when, and through how many of the hosts, a delivery is tried, not where it goes.
 */
public final class AddressRouting {
  /** One final destination of a tested address, or why it has none. */
  public sealed interface Outcome permits Routed, Undeliverable, Unresolved {
    /** The address this outcome is for: the tested one, or one its aliases led to. */
    String address();

    /** The addresses that led to {@link #address()} through aliases, nearest first; empty for the tested one. */
    List<String> parents();
  }

  /**
   * Delivered through {@code router} and {@code transport}; to {@code hosts}, in the order tried,
   * for a remote transport, and to a local mailbox when {@code hosts} is empty.
   *
   * @param transportPort the remote transport's port, which hosts without a port of their own use
   */
  public record Routed(String address, List<String> parents, String router, String transport,
                       List<RemoteHost> hosts, int transportPort) implements Outcome {
    public Routed {
      parents = List.copyOf(parents);
      hosts = List.copyOf(hosts);
    }
  }

  /** Fails permanently: a delivery would bounce it. */
  public record Undeliverable(String address, List<String> parents, String reason) implements Outcome {
    public Undeliverable {
      parents = List.copyOf(parents);
    }
  }

  /** Cannot be routed now (a DNS failure, no remote router): a delivery would leave it queued. */
  public record Unresolved(String address, List<String> parents, String reason) implements Outcome {
    public Unresolved {
      parents = List.copyOf(parents);
    }
  }

  private final RemoteRouter router;

  /** Routing with the DNS resolvers of {@code vertx}, as the queue running on it would. */
  public AddressRouting(Vertx vertx) {
    this.router = new RemoteRouter(settings -> DnsResolvers.of(vertx, settings), new Random());
  }

  /** The outcomes for {@code recipient}: one, or one per final address of its aliases. */
  public Future<List<Outcome>> route(PosternConfig config, Envelope.Recipient recipient) {
    Set<String> seen = new HashSet<>();
    seen.add(recipient.address().toLowerCase(Locale.ROOT));
    return route(config, recipient, List.of(), seen);
  }

  private Future<List<Outcome>> route(PosternConfig c, Envelope.Recipient r, List<String> parents, Set<String> seen) {
    if (c.delivery().routesLocal() && c.localDomains().matches(r.domain())) {
      return local(c, r, parents, seen);
    }
    if (!c.delivery().routesRemote()) {
      return Future.succeededFuture(List.of(
          new Unresolved(r.address(), parents, QueueVerticle.REMOTE_NOT_CONFIGURED)));
    }
    return router.route(c, r.domain()).<List<Outcome>>map(d -> List.of(remote(c, r.address(), parents, d)))
        // The queue leaves the recipient pending when routing itself breaks down.
        .recover(e -> Future.succeededFuture(List.of(
            new Unresolved(r.address(), parents, String.valueOf(e.getMessage())))));
  }

  private Future<List<Outcome>> local(PosternConfig c, Envelope.Recipient r, List<String> parents, Set<String> seen) {
    LocalRouting.Plan plan = LocalRouting.plan(List.of(r), c);
    if (!plan.unknown().isEmpty()) {
      return Future.succeededFuture(List.of(new Undeliverable(r.address(), parents, RemoteRouter.UNROUTEABLE)));
    }
    String routerName = LocalRouting.routerName(c);
    List<Outcome> outcomes = new ArrayList<>();
    List<String> chain = new ArrayList<>();
    chain.add(r.address());
    chain.addAll(parents);
    if (!c.users().isAlias(r.localPart())) {
      outcomes.add(new Routed(r.address(), parents, routerName, LocalRouting.TRANSPORT, List.of(), 0));
    } else {
      // Mailboxes have no domain: Exim would qualify the alias's members with the alias's own.
      for (String mailbox : plan.mailboxesByRecipient().get(r.address())) {
        outcomes.add(new Routed(mailbox + "@" + r.domain(), chain, routerName, LocalRouting.TRANSPORT, List.of(), 0));
      }
    }
    List<Future<List<Outcome>>> children = new ArrayList<>();
    for (Envelope.Recipient added : plan.added()) {
      // As a message's envelope takes an added recipient only once, an alias loop ends here.
      if (seen.add(added.address().toLowerCase(Locale.ROOT))) {
        children.add(route(c, added, chain, seen));
      }
    }
    return Future.all(children).map(v -> {
      children.forEach(f -> outcomes.addAll(f.result()));
      return outcomes;
    });
  }

  private static Outcome remote(PosternConfig c, String address, List<String> parents, RemoteRouter.Decision d) {
    if (d instanceof RemoteRouter.Routed routed) {
      RouterConfig r = routed.router();
      return new Routed(address, parents, r.name(), r.transport(), routed.hosts(),
          c.delivery().transportPort(r.transport()));
    }
    if (d instanceof RemoteRouter.Failed failed) {
      return new Undeliverable(address, parents, failed.reason());
    }
    return new Unresolved(address, parents, ((RemoteRouter.Deferred) d).reason());
  }
}
