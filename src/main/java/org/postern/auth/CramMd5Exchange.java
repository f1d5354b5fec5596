package org.postern.auth;

import io.vertx.core.Future;
import org.postern.bus.AuthReply;
import org.postern.config.LocalUsers;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * CRAM-MD5 (RFC 2195): a unique challenge {@code <random.timestamp@primary_hostname>}, answered
 * with {@code user HMAC-MD5(secret, challenge)}. Needs the secret itself (or Dovecot's precomputed
 * context): a user stored in another scheme cannot use it and fails with 535, uncounted (it says
 * nothing about the password). A legacy mechanism, off by default. {@code $auth1} is the user.
 */
final class CramMd5Exchange implements SaslExchange {
  private static final SecureRandom RANDOM = new SecureRandom();
  private final LocalUsers users;
  private final String hostname;
  private final FailureWindowGate gate;
  private byte[] challenge;

  CramMd5Exchange(LocalUsers users, String hostname, FailureWindowGate gate) {
    this.users = users;
    this.hostname = hostname;
    this.gate = gate;
  }

  @Override
  public Future<AuthReply> step(byte[] response) {
    if (challenge == null) {
      if (response != null) {
        return Future.succeededFuture(AuthReply.failure(null, "CRAM-MD5 takes no initial response"));
      }
      challenge = ("<" + Long.toUnsignedString(RANDOM.nextLong()) + "." + System.currentTimeMillis() + "@"
          + hostname + ">").getBytes(StandardCharsets.US_ASCII);
      return Future.succeededFuture(AuthReply.challenge(challenge));
    }
    String text = response == null ? "" : new String(response, StandardCharsets.UTF_8);
    int space = text.lastIndexOf(' ');
    if (space <= 0 || !text.substring(space + 1).matches("[0-9a-fA-F]{32}")) {
      return Future.succeededFuture(AuthReply.failure(null, "malformed CRAM-MD5 response"));
    }
    String user = text.substring(0, space);
    byte[] digest = HexFormat.of().parseHex(text.substring(space + 1).toLowerCase());
    LocalUsers.Account account = users.account(user);
    return gate.check(user, () -> Future.succeededFuture(verify(user, account, digest)));
  }

  private AuthReply verify(String user, LocalUsers.Account account, byte[] digest) {
    if (account != null && !account.secret().isEmpty() && !PasswordSchemes.serves(account.scheme(), "CRAM-MD5")) {
      return AuthReply.uncountedFailure(user, "CRAM-MD5 cannot use the stored scheme {" + account.scheme()
          + "} (it needs {PLAIN} or {CRAM-MD5})");
    }
    Optional<CramMd5Key> key = account == null || account.secret().isEmpty() ? Optional.empty()
        : PasswordSchemes.cramMd5Key(account.scheme(), account.secret());
    boolean ok = key.isPresent() && MessageDigest.isEqual(key.get().hmac(challenge), digest);
    return ok ? AuthReply.success(account.name(), List.of(account.name()))
        : AuthReply.failure(user, "incorrect authentication data");
  }
}
