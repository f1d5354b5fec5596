package org.postern.auth;

import io.vertx.core.Future;
import io.vertx.ext.auth.authentication.AuthenticationProvider;
import io.vertx.ext.auth.authentication.UsernamePasswordCredentials;
import org.postern.bus.AuthReply;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * LOGIN (draft-murchison-sasl-login): the two prompts ({@code server_prompts}, by default
 * "Username:" and "Password:"), with or without the user name as initial response.
 * {@code $auth1} is the user, {@code $auth2} the password.
 */
final class LoginExchange implements SaslExchange {
  private final AuthenticationProvider provider;
  private final FailureWindowGate gate;
  private final List<String> prompts;
  private String user;
  private boolean started;

  LoginExchange(AuthenticationProvider provider, FailureWindowGate gate, List<String> prompts) {
    this.provider = provider;
    this.gate = gate;
    this.prompts = prompts.size() >= 2 ? prompts : List.of("Username:", "Password:");
  }

  @Override
  public Future<AuthReply> step(byte[] response) {
    if (!started) {
      started = true;
      if (response == null) {
        return prompt(0);
      }
    }
    if (response == null) {
      return Future.succeededFuture(AuthReply.failure(user, "no response"));
    }
    if (user == null) {
      user = new String(response, StandardCharsets.UTF_8);
      if (user.isEmpty()) {
        return Future.succeededFuture(AuthReply.failure(null, "empty user name"));
      }
      return prompt(1);
    }
    String password = new String(response, StandardCharsets.UTF_8);
    String name = user;
    return gate.check(name, () -> provider.authenticate(new UsernamePasswordCredentials(name, password))
        .map(u -> AuthReply.success(name, List.of(name, password)))
        .otherwise(e -> UnusableSecretException.rejection(name, e)));
  }

  private Future<AuthReply> prompt(int i) {
    return Future.succeededFuture(AuthReply.challenge(prompts.get(i).getBytes(StandardCharsets.UTF_8)));
  }
}
