package org.postern.auth;

import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import io.vertx.ext.auth.User;
import io.vertx.ext.auth.authentication.AuthenticationProvider;
import io.vertx.ext.auth.authentication.Credentials;
import io.vertx.ext.auth.authentication.UsernamePasswordCredentials;
import org.postern.config.ConfigHolder;
import org.postern.config.LocalUsers;

/**
 * A Vert.x Auth provider over {@code conf/passwd} (Dovecot passwd-file schemes, see
 * {@link PasswordSchemes}). Verification runs on a worker pool, so a bcrypt check never stalls an
 * event loop. PLAIN and LOGIN authenticate through this interface, so another provider
 * (properties, JDBC, LDAP) can take its place.
 */
public final class PasswdAuthenticationProvider implements AuthenticationProvider {
  private final ConfigHolder config;
  private final WorkerExecutor workers;

  /**
   * @param workers where password checks run; keep it smaller than the number of cores, so that
   *                a burst of bcrypt checks cannot starve the event loops of CPU
   */
  public PasswdAuthenticationProvider(ConfigHolder config, WorkerExecutor workers) {
    this.config = config;
    this.workers = workers;
  }

  @Override
  public Future<User> authenticate(Credentials credentials) {
    if (!(credentials instanceof UsernamePasswordCredentials up) || up.getUsername() == null
        || up.getPassword() == null) {
      return Future.failedFuture("username and password required");
    }
    LocalUsers.Account account = config.current().users().account(up.getUsername());
    if (account != null && !account.secret().isEmpty() && !PasswordSchemes.isSupported(account.scheme())) {
      // No password can match, and saying so tells a guesser nothing (issue 11: {SHA512-CRYPT}
      // entries used to fail like wrong passwords, silently).
      return Future.failedFuture(new UnusableSecretException("stored scheme {" + account.scheme() + "} is unknown"));
    }
    return workers.<Boolean>executeBlocking(() -> account != null && !account.secret().isEmpty()
        && PasswordSchemes.verify(account.scheme(), account.secret(), up.getPassword()), false)
        .compose(ok -> ok ? Future.succeededFuture(User.fromName(account.name()))
            : Future.failedFuture("authentication failed"));
  }
}
