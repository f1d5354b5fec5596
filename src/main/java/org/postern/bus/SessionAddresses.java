package org.postern.bus;

/**
 * The addresses of one session instance: {@code postern.session.open.n}, {@code .command.n},
 * {@code .data.n}, {@code .tls.n}, {@code .close.n} and {@code .list.n} (its live sessions, for the
 * admin API). A connection resolves them once, at open,
 * in the {@link InstanceDirectory} of {@link Addresses#SESSION}, and keeps them: only that instance
 * knows the session.
 */
public record SessionAddresses(String open, String command, String data, String tls, String close, String list) {

  public static SessionAddresses ofInstance(int n) {
    return new SessionAddresses(Addresses.ofInstance(Addresses.SESSION_OPEN, n),
        Addresses.ofInstance(Addresses.SESSION_COMMAND, n), Addresses.ofInstance(Addresses.SESSION_DATA, n),
        Addresses.ofInstance(Addresses.SESSION_TLS, n), Addresses.ofInstance(Addresses.SESSION_CLOSE, n),
        Addresses.ofInstance(Addresses.SESSION_LIST, n));
  }
}
