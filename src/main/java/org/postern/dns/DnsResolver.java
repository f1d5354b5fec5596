package org.postern.dns;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.dns.DnsClient;
import io.vertx.core.dns.DnsClientOptions;
import io.vertx.core.dns.DnsException;
import io.vertx.core.dns.DnsResponseCode;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Asks the configured name servers, never blocking. Each lookup answers a definite list, empty for
 * NXDOMAIN and for a name without records of the type, or fails with {@link DnsTemporaryFailure}
 * once every attempt ({@link DnsSettings#attempts()}, server after server, round after round) timed
 * out, failed on the network or got SERVFAIL. A lookup never takes longer than
 * {@link DnsSettings#bound()}. Shareable because it is safe from any thread: its fields never
 * change and the Vert.x DNS client keeps one resolver per event loop.
 */
public final class DnsResolver implements io.vertx.core.shareddata.Shareable {
  private final DnsSettings settings;
  private final List<DnsClient> clients;

  public DnsResolver(Vertx vertx, DnsSettings settings) {
    this.settings = settings;
    List<DnsClient> list = new ArrayList<>();
    for (DnsServerAddress server : settings.servers()) {
      list.add(vertx.createDnsClient(new DnsClientOptions().setHost(server.host()).setPort(server.port())
          .setQueryTimeout(settings.timeout().toMillis()).setRecursionDesired(true)));
    }
    this.clients = List.copyOf(list);
  }

  public DnsSettings settings() {
    return settings;
  }

  /** IPv4 addresses of {@code name}, as dotted quads. */
  public Future<List<String>> lookupA(String name) {
    return query(name, c -> c.resolveA(name));
  }

  /** IPv6 addresses of {@code name}, in Java's textual form. */
  public Future<List<String>> lookupAaaa(String name) {
    return query(name, c -> c.resolveAAAA(name));
  }

  /**
   * The character-strings of the TXT records of {@code name}, in order. The Vert.x client hands
   * them over flattened, so a record split into several strings (over 255 bytes) comes back as
   * several items; callers that want one text join them.
   */
  public Future<List<String>> lookupTxt(String name) {
    return query(name, c -> c.resolveTXT(name));
  }

  /** MX records of {@code name}, lowest preference first (equal preferences keep the server's order). */
  public Future<List<MailExchanger>> lookupMx(String name) {
    return query(name, c -> c.resolveMX(name).map(records -> records.stream()
        .map(r -> new MailExchanger(r.priority(), stripDot(r.name())))
        .sorted(Comparator.comparingInt(MailExchanger::preference))
        .toList()));
  }

  /** Closes the clients; lookups in flight fail. */
  public Future<Void> close() {
    return Future.all(clients.stream().map(DnsClient::close).toList()).mapEmpty();
  }

  private <T> Future<List<T>> query(String name, Function<DnsClient, Future<List<T>>> ask) {
    return attempt(name, ask, 0, null);
  }

  private <T> Future<List<T>> attempt(String name, Function<DnsClient, Future<List<T>>> ask, int n, Throwable last) {
    if (n >= settings.attempts()) {
      return Future.failedFuture(new DnsTemporaryFailure(name, reason(last), last));
    }
    DnsClient client = clients.get(n % clients.size());
    Future<List<T>> answer;
    try {
      // The client's own query timeout ends an attempt; this guard makes "never hangs" ours to keep.
      // Its slack covers the client's first query, which sets up channels and is measurably slower.
      answer = ask.apply(client).timeout(settings.timeout().plus(DnsSettings.GUARD_SLACK).toMillis(),
          TimeUnit.MILLISECONDS);
    } catch (RuntimeException e) {
      answer = Future.failedFuture(e);
    }
    return answer.recover(e -> {
      if (e instanceof DnsException dns && dns.code() == DnsResponseCode.NXDOMAIN) {
        return Future.succeededFuture(List.of());
      }
      return attempt(name, ask, n + 1, e);
    });
  }

  private static String reason(Throwable e) {
    if (e instanceof DnsException dns) {
      return dns.code().name();
    }
    if (e == null) {
      return "no attempt";
    }
    String simple = e.getClass().getSimpleName();
    return simple.toLowerCase().contains("timeout") ? "timeout" : simple + ": " + e.getMessage();
  }

  /** Vert.x hands the root name (a null MX's exchange, RFC 7505) over as null or empty: it is ".". */
  private static String stripDot(String host) {
    if (host == null || host.isEmpty() || host.equals(".")) {
      return ".";
    }
    return host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
  }
}
