package org.postern.auth;

import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import org.postern.bus.AuthReply;
import org.postern.config.LocalUsers;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

/**
 * SCRAM-SHA-256 (RFC 5802, RFC 7677) over SMTP AUTH: the server-final message (the proof that the
 * server knows the credentials too) is sent as one more 334 challenge, and the client answers it
 * with an empty line before the 235, as RFC 4954 prescribes for additional data on success. As in
 * Exim's gsasl driver, {@code $auth1} is the user and {@code $auth2} the authorization identity.
 * The proof is checked under a reservation in the failure windows; a user whose stored scheme
 * holds no SCRAM keys fails uncounted, with the reason in the log.
 */
final class ScramExchange implements SaslExchange {
  private static final SecureRandom RANDOM = new SecureRandom();
  private final ScramSha256Server server;
  private final WorkerExecutor workers;
  private final FailureWindowGate gate;
  /** The user once client-first was accepted. */
  private String user;
  private String authzid;
  /** Set by the lookup when the user exists but the stored scheme cannot serve SCRAM. */
  private volatile String unusableScheme;
  private String verifiedUser;
  private boolean finished;

  ScramExchange(LocalUsers users, WorkerExecutor workers, FailureWindowGate gate) {
    this.workers = workers;
    this.gate = gate;
    this.server = new ScramSha256Server(name -> {
      LocalUsers.Account a = users.account(name);
      if (a == null || a.secret().isEmpty()) {
        return Optional.empty();
      }
      Optional<ScramCredentials> credentials = PasswordSchemes.scramSha256(a.name(), a.scheme(), a.secret());
      if (credentials.isEmpty() && !PasswordSchemes.serves(a.scheme(), "SCRAM-SHA-256")) {
        unusableScheme = a.scheme();
      }
      return credentials;
    }, () -> {
      byte[] nonce = new byte[18];
      RANDOM.nextBytes(nonce);
      return Base64.getEncoder().encodeToString(nonce);
    });
  }

  @Override
  public Future<AuthReply> step(byte[] response) {
    if (finished) {
      return Future.succeededFuture(AuthReply.failure(verifiedUser, "exchange already finished"));
    }
    if (verifiedUser != null) {
      finished = true;
      return Future.succeededFuture(response == null || response.length == 0
          ? AuthReply.success(verifiedUser, List.of(verifiedUser, authzid == null ? "" : authzid))
          : AuthReply.failure(verifiedUser, "unexpected data after server-final"));
    }
    if (response == null) {
      return Future.succeededFuture(AuthReply.challenge(new byte[0]));
    }
    if (user == null) {
      // Off the event loop: deriving keys for a {PLAIN} user costs 4096 PBKDF2 rounds.
      return workers.executeBlocking(() -> server.step(response), false).map(step -> {
        if (step.kind() == ScramSha256Server.Step.Kind.CHALLENGE) {
          user = step.user();
          authzid = step.authzid();
          return AuthReply.challenge(step.serverMessage());
        }
        finished = true;
        return AuthReply.failure(step.user(), step.reason());
      });
    }
    return gate.check(user, () -> workers.executeBlocking(() -> server.step(response), false).map(step -> {
      if (step.kind() == ScramSha256Server.Step.Kind.SUCCESS) {
        verifiedUser = step.user();
        return AuthReply.challenge(step.serverMessage());
      }
      finished = true;
      String scheme = unusableScheme;
      return scheme != null
          ? AuthReply.uncountedFailure(user, "SCRAM-SHA-256 cannot use the stored scheme {" + scheme
              + "} (it needs {SCRAM-SHA-256} or {PLAIN})")
          : AuthReply.failure(step.user(), step.reason());
    }));
  }
}
