package org.postern.auth;

import io.vertx.core.Future;
import io.vertx.ext.auth.authentication.AuthenticationProvider;
import io.vertx.ext.auth.authentication.UsernamePasswordCredentials;
import org.postern.bus.AuthReply;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * PLAIN (RFC 4616): {@code authzid NUL authcid NUL passwd}, in the initial response or after an
 * empty challenge. As in Exim, {@code $auth1} is the authzid, {@code $auth2} the user,
 * {@code $auth3} the password. An authzid other than the user is refused unless the
 * authenticator's {@code server_condition} allows it (checked by the caller).
 */
final class PlainExchange implements SaslExchange {
  private final AuthenticationProvider provider;
  private final FailureWindowGate gate;
  private boolean challenged;

  PlainExchange(AuthenticationProvider provider, FailureWindowGate gate) {
    this.provider = provider;
    this.gate = gate;
  }

  @Override
  public Future<AuthReply> step(byte[] response) {
    if (response == null && !challenged) {
      challenged = true;
      return Future.succeededFuture(AuthReply.challenge(new byte[0]));
    }
    if (response == null) {
      return Future.succeededFuture(AuthReply.failure(null, "no credentials"));
    }
    int first = indexOf(response, 0);
    int second = first < 0 ? -1 : indexOf(response, first + 1);
    if (first < 0 || second < 0 || indexOf(response, second + 1) >= 0) {
      return Future.succeededFuture(AuthReply.failure(null, "malformed PLAIN response"));
    }
    String authzid = new String(response, 0, first, StandardCharsets.UTF_8);
    String user = new String(response, first + 1, second - first - 1, StandardCharsets.UTF_8);
    String password = new String(Arrays.copyOfRange(response, second + 1, response.length), StandardCharsets.UTF_8);
    if (user.isEmpty()) {
      return Future.succeededFuture(AuthReply.failure(null, "empty user name"));
    }
    return gate.check(user, () -> provider.authenticate(new UsernamePasswordCredentials(user, password))
        .map(u -> AuthReply.success(user, List.of(authzid, user, password)))
        .otherwise(e -> UnusableSecretException.rejection(user, e)));
  }

  private static int indexOf(byte[] b, int from) {
    for (int i = from; i < b.length; i++) {
      if (b[i] == 0) {
        return i;
      }
    }
    return -1;
  }
}
