package org.postern.policy;

import io.vertx.core.Future;
import org.postern.dns.DnsResolver;
import org.postern.dns.DnsResolvers;
import org.postern.dns.DnsTemporaryFailure;
import org.postern.dns.MailExchanger;

import java.util.List;
import java.util.Locale;

/**
 * {@code verify = sender}: could a bounce reach the envelope sender? The null sender passes. A
 * sender in a local domain must be a mailbox or an alias; a remote domain must accept mail in
 * the DNS: MX records other than a null MX (RFC 7505), or else an address (RFC 5321 5.1's implicit
 * MX). Exim routes the address fully; without the remote routers this is the DNS part of that.
 * A DNS failure defers (451), so a resolver outage never turns into rejected mail.
 */
public final class VerifySenderCondition implements AclCondition {

  @Override
  public Future<Outcome> test(AclContext context) {
    String sender = context.variable("sender_address");
    if (sender == null) {
      return Future.succeededFuture(Outcome.FALSE);
    }
    if (sender.isEmpty()) {
      return Future.succeededFuture(Outcome.TRUE);
    }
    int at = sender.lastIndexOf('@');
    AclSettings config = context.config();
    String domain = at < 0 ? "" : sender.substring(at + 1).toLowerCase(Locale.ROOT);
    String localPart = at < 0 ? sender : sender.substring(0, at);
    if (domain.isEmpty() || config.localDomains().matches(domain)) {
      if (config.localPartExists(unquote(localPart))) {
        return Future.succeededFuture(Outcome.TRUE);
      }
      return fail(context, "5.1.7", "<" + sender + ">: Sender verify failed: unknown user");
    }
    if (domain.startsWith("[")) {
      return Future.succeededFuture(Outcome.TRUE);
    }
    if (context.vertx() == null) {
      return Future.succeededFuture(Outcome.DEFER);
    }
    DnsResolver dns = DnsResolvers.of(context.vertx(), config.dns());
    return dns.lookupMx(domain).compose(mx -> {
      if (isNullMx(mx)) {
        return fail(context, "5.1.10", "<" + sender + ">: Sender verify failed: " + domain + " accepts no mail (null MX)");
      }
      if (!mx.isEmpty()) {
        return Future.succeededFuture(Outcome.TRUE);
      }
      return dns.lookupA(domain).compose(a -> a.isEmpty() ? dns.lookupAaaa(domain) : Future.succeededFuture(a))
          .compose(addresses -> addresses.isEmpty()
              ? fail(context, "5.1.8", "<" + sender + ">: Sender verify failed: domain " + domain + " has no mail server")
              : Future.succeededFuture(Outcome.TRUE));
    }).recover(e -> {
      if (e instanceof DnsTemporaryFailure) {
        context.verifyFailed(451, "4.4.3", "<" + sender + ">: Sender verify deferred: DNS lookup of " + domain
            + " failed, try again later");
        return Future.succeededFuture(Outcome.DEFER);
      }
      return Future.failedFuture(e);
    });
  }

  static boolean isNullMx(List<MailExchanger> mx) {
    return mx.size() == 1 && (mx.get(0).exchange().isEmpty() || mx.get(0).exchange().equals("."));
  }

  private static Future<Outcome> fail(AclContext context, String enhanced, String message) {
    context.verifyFailed(550, enhanced, message);
    return Future.succeededFuture(Outcome.FALSE);
  }

  private static String unquote(String localPart) {
    return new org.postern.smtp.MailPath(localPart, "x", java.util.Map.of()).dequotedLocalPart();
  }

  @Override
  public String describe() {
    return "verify = sender";
  }
}
