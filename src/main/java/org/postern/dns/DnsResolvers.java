package org.postern.dns;

import io.vertx.core.Vertx;
import io.vertx.core.shareddata.LocalMap;

/**
 * One {@link DnsResolver} per Vert.x instance and {@link DnsSettings}, shared by every ACL
 * evaluation (and the MX router): a {@code DnsClient} holds a UDP channel per event loop, too
 * much to open per SMTP command. Kept in the instance's local shared data, so resolvers go with
 * their Vert.x; a reload with new DNS settings gets a new resolver while sessions still on the old
 * generation keep theirs.
 */
public final class DnsResolvers {
  private static final String MAP = "postern.dns.resolvers";

  private DnsResolvers() {
  }

  public static DnsResolver of(Vertx vertx, DnsSettings settings) {
    LocalMap<String, DnsResolver> resolvers = vertx.sharedData().getLocalMap(MAP);
    return resolvers.computeIfAbsent(settings.toString(), key -> new DnsResolver(vertx, settings));
  }
}
