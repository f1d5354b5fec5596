package org.postern.session;

import io.vertx.core.Future;
import org.postern.bus.SessionResponse;

/**
 * One SMTP verb's handler: checks sequence and syntax, asks policy, changes the session, replies.
 * A verb with an ACL stage does so through {@link PolicedCommand}.
 */
interface SmtpCommand {
  Future<SessionResponse> execute(SmtpSession session, String argument);
}
