package org.postern.auth;

import io.vertx.core.Future;
import org.postern.bus.AuthReply;

/** The server side of one SASL exchange: one instance per AUTH command. */
interface SaslExchange {
  /**
   * Processes the client's next response.
   *
   * @param response the decoded response, or null when AUTH carried no initial response
   */
  Future<AuthReply> step(byte[] response);
}
