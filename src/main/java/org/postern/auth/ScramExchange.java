package org.postern.auth;

import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import org.postern.config.LocalUsers;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

/**
 * SCRAM-SHA-256 (RFC 5802, RFC 7677) over SMTP AUTH: the server-final message (the proof that the
 * server knows the credentials too) is sent as one more 334 challenge, and the client answers it
 * with an empty line before the 235, as RFC 4954 prescribes for additional data on success.
 */
final class ScramExchange implements SaslExchange {
  private static final SecureRandom RANDOM = new SecureRandom();
  private final ScramSha256Server server;
  private final WorkerExecutor workers;
  private String verifiedUser;
  private boolean finished;

  ScramExchange(LocalUsers users, WorkerExecutor workers) {
    this.workers = workers;
    this.server = new ScramSha256Server(user -> {
      LocalUsers.Account a = users.account(user);
      return a == null || a.secret().isEmpty() ? Optional.empty()
          : PasswordSchemes.scramSha256(a.name(), a.scheme(), a.secret());
    }, () -> {
      byte[] nonce = new byte[18];
      RANDOM.nextBytes(nonce);
      return Base64.getEncoder().encodeToString(nonce);
    });
  }

  @Override
  public Future<SaslResult> step(byte[] response) {
    if (finished) {
      return Future.succeededFuture(SaslResult.failure(verifiedUser, "exchange already finished"));
    }
    if (verifiedUser != null) {
      finished = true;
      return Future.succeededFuture(response == null || response.length == 0
          ? SaslResult.success(verifiedUser, List.of(verifiedUser))
          : SaslResult.failure(verifiedUser, "unexpected data after server-final"));
    }
    if (response == null) {
      return Future.succeededFuture(SaslResult.challenge(new byte[0]));
    }
    // Off the event loop: deriving keys for a {PLAIN} user costs 4096 PBKDF2 rounds.
    return workers.executeBlocking(() -> server.step(response), false).map(step -> switch (step.kind()) {
      case CHALLENGE -> SaslResult.challenge(step.serverMessage());
      case SUCCESS -> {
        verifiedUser = step.user();
        yield SaslResult.challenge(step.serverMessage());
      }
      case FAILURE -> {
        finished = true;
        yield SaslResult.failure(step.user(), step.reason());
      }
    });
  }
}
