package org.postern.auth;

import io.vertx.core.Future;
import org.postern.bus.AuthReply;
import org.postern.config.AuthSettings;

import java.util.function.Supplier;

/**
 * One exchange's password check, run under a reservation in the {@link AuthFailureWindows} of
 * the client's address: the check runs only when every window has room, a counted failure keeps
 * its place, and anything else (success, an uncounted failure) gives it back.
 */
final class FailureWindowGate {
  private final AuthFailureWindows windows;
  private final AuthSettings settings;
  private final String host;

  /** @param host the client's address ({@code $sender_host_address}); empty for -bs sessions */
  FailureWindowGate(AuthFailureWindows windows, AuthSettings settings, String host) {
    this.windows = windows;
    this.settings = settings;
    this.host = host;
  }

  /**
   * Runs {@code check} for {@code user} unless a window is full, in which case the result is
   * {@link AuthReply.Status#THROTTLED} and no password is looked at.
   */
  Future<AuthReply> check(String user, Supplier<Future<AuthReply>> check) {
    return windows.reserve(settings, host, user).compose(reservation -> {
      if (reservation.refusedBy() != null) {
        return Future.succeededFuture(AuthReply.throttled(user, "too many recent failures from "
            + reservation.refusedBy()));
      }
      return check.get().compose(result -> result.countedFailure() ? Future.succeededFuture(result)
          : reservation.release().map(result));
    });
  }
}
