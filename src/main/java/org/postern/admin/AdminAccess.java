package org.postern.admin;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.web.RoutingContext;
import org.postern.config.AdminSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.function.Supplier;

/**
 * Who may use the admin API. Without {@code admin_token_file} only loopback clients (127.0.0.0/8,
 * ::1) are served and others get 403; with it every API request needs
 * {@code Authorization: Bearer <token>} (RFC 6750), else 401 with {@code WWW-Authenticate: Bearer}.
 * The token file is read again (asynchronously) for every request, so a new token is in force at
 * once; the tokens are compared as SHA-256 digests with {@link MessageDigest#isEqual}, in time that
 * depends on neither token (a bearer header also keeps other sites' pages out: a browser sends it
 * only after a CORS preflight, which this API never allows). The status page's own files ({@code /}, {@code /admin.js}) hold no
 * data and are served without the token (the page asks for it), but not to a refused client.
 */
final class AdminAccess implements Handler<RoutingContext> {
  private static final Logger LOG = LoggerFactory.getLogger(AdminAccess.class);
  private static final String BEARER = "Bearer ";

  private final Vertx vertx;
  private final Supplier<AdminSettings> settings;

  AdminAccess(Vertx vertx, Supplier<AdminSettings> settings) {
    this.vertx = vertx;
    this.settings = settings;
  }

  /** True for the status page's static files, which need no token. */
  static boolean isPageFile(String path) {
    return path.equals("/") || path.equals("/index.html") || path.equals("/admin.js") || path.equals("/admin.css");
  }

  @Override
  public void handle(RoutingContext ctx) {
    AdminSettings s = settings.get();
    if (s.tokenFile() == null) {
      if (!isLoopback(ctx.request().remoteAddress())) {
        AdminJson.error(ctx, 403, "only loopback clients are served without admin_token_file");
      } else if (!isAddressedDirectly(ctx)) {
        AdminJson.error(ctx, 403, "a request from another site or for another host name is refused");
      } else {
        ctx.next();
      }
      return;
    }
    if (isPageFile(ctx.normalizedPath())) {
      ctx.next();
      return;
    }
    String header = ctx.request().getHeader("Authorization");
    if (header == null || !header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
      unauthorized(ctx);
      return;
    }
    String offered = header.substring(BEARER.length()).strip();
    vertx.fileSystem().readFile(s.tokenFile().toString()).onComplete(read -> {
      if (read.failed()) {
        LOG.warn("admin_token_file {} cannot be read: {}", s.tokenFile(), read.cause().getMessage());
        AdminJson.error(ctx, 503, "the token file cannot be read");
      } else if (matches(read.result(), offered)) {
        ctx.next();
      } else {
        unauthorized(ctx);
      }
    });
  }

  /**
   * Without a token, any web page the administrator's browser shows could reach a loopback API:
   * a cross-site request carries a foreign {@code Origin} (refused), and a DNS-rebinding one a
   * foreign {@code Host} (only IP literals and {@code localhost} are accepted).
   */
  private static boolean isAddressedDirectly(RoutingContext ctx) {
    String host = ctx.request().getHeader("Host");
    String origin = ctx.request().getHeader("Origin");
    if (host == null || !isLocalHostHeader(host)) {
      return false;
    }
    return origin == null || origin.equalsIgnoreCase("http://" + host);
  }

  private static boolean isLocalHostHeader(String host) {
    String name = host.startsWith("[") ? host.substring(1, Math.max(1, host.indexOf(']')))
        : host.lastIndexOf(':') > 0 ? host.substring(0, host.lastIndexOf(':')) : host;
    return name.equalsIgnoreCase("localhost") || org.postern.net.IpAddresses.isIpAddress(name);
  }

  private static void unauthorized(RoutingContext ctx) {
    ctx.response().putHeader("WWW-Authenticate", "Bearer realm=\"postern\"");
    AdminJson.error(ctx, 401, "a bearer token is required");
  }

  private static boolean matches(Buffer file, String offered) {
    String token = file.toString(StandardCharsets.UTF_8).strip();
    return !token.isEmpty() && MessageDigest.isEqual(sha256(token), sha256(offered));
  }

  private static byte[] sha256(String text) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The peer's address is an IP literal: no name lookup happens here. */
  static boolean isLoopback(SocketAddress peer) {
    if (peer == null || peer.hostAddress() == null) {
      return false;
    }
    try {
      return InetAddress.getByName(peer.hostAddress()).isLoopbackAddress();
    } catch (UnknownHostException notAnAddress) {
      return false;
    }
  }
}
