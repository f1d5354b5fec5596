package org.postern.policy;

import io.vertx.core.Future;
import org.postern.dns.DnsResolver;
import org.postern.dns.DnsResolvers;
import org.postern.dns.DnsTemporaryFailure;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Locale;

/**
 * {@code verify = helo} (Exim's {@code helo_verify_hosts} check): the HELO/EHLO name must be the
 * client. An address literal ({@code [192.0.2.1]}, {@code [IPv6:2001:db8::1]}) must be the
 * client's own address; a name must have an A or AAAA record equal to it. Local senders pass; before
 * HELO it is false; a DNS failure defers.
 */
public final class VerifyHeloCondition implements AclCondition {

  @Override
  public Future<Outcome> test(AclContext context) {
    String client = context.variable("sender_host_address");
    if (client == null || client.isEmpty()) {
      return Future.succeededFuture(Outcome.TRUE);
    }
    String helo = context.variable("sender_helo_name");
    if (helo == null || helo.isEmpty()) {
      return Future.succeededFuture(Outcome.FALSE);
    }
    byte[] clientIp = ip(client);
    if (helo.startsWith("[") && helo.endsWith("]")) {
      String literal = helo.substring(1, helo.length() - 1);
      if (literal.regionMatches(true, 0, "IPv6:", 0, 5)) {
        literal = literal.substring(5);
      }
      byte[] given = ip(literal);
      return given != null && java.util.Arrays.equals(given, clientIp) ? Future.succeededFuture(Outcome.TRUE)
          : fail(context, helo, client);
    }
    if (context.vertx() == null) {
      return Future.succeededFuture(Outcome.DEFER);
    }
    DnsResolver dns = DnsResolvers.of(context.vertx(), context.config().dns());
    String name = helo.endsWith(".") ? helo.substring(0, helo.length() - 1) : helo;
    Future<List<String>> lookup = clientIp != null && clientIp.length == 16 ? dns.lookupAaaa(name) : dns.lookupA(name);
    return lookup.compose(addresses -> addresses.stream().anyMatch(a -> java.util.Arrays.equals(ip(a), clientIp))
        ? Future.succeededFuture(Outcome.TRUE) : fail(context, helo, client))
        .recover(e -> e instanceof DnsTemporaryFailure ? Future.succeededFuture(Outcome.DEFER) : Future.failedFuture(e));
  }

  private static Future<Outcome> fail(AclContext context, String helo, String client) {
    context.verifyFailed(550, "5.7.1", "HELO/EHLO " + helo.toLowerCase(Locale.ROOT) + " is not your address ["
        + client + "]");
    return Future.succeededFuture(Outcome.FALSE);
  }

  /** An address literal's bytes, IPv4-mapped IPv6 as IPv4; null if it is not an address. Never resolves names. */
  private static byte[] ip(String text) {
    if (text == null || !(text.indexOf(':') >= 0 || text.matches("\\d{1,3}(\\.\\d{1,3}){3}"))) {
      return null;
    }
    try {
      return InetAddress.getByName(text).getAddress();
    } catch (UnknownHostException | SecurityException e) {
      return null;
    }
  }

  @Override
  public String describe() {
    return "verify = helo";
  }
}
