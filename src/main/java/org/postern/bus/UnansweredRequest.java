package org.postern.bus;

import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;

/**
 * Why a request to a plugin got no usable answer, in the words the main log, stderr and the
 * {@code -bh} trace give: nothing deployed on the address, no answer in time, or the plugin's own
 * failure. Every hook treats all three as "cannot decide now" (defer).
 */
public final class UnansweredRequest {
  private UnansweredRequest() {
  }

  /** @param timeoutMillis the send timeout the request had */
  public static String describe(Throwable e, String address, long timeoutMillis) {
    if (e instanceof ReplyException r && r.failureType() == ReplyFailure.NO_HANDLERS) {
      return "no plugin is deployed on " + address;
    }
    if (e instanceof ReplyException r && r.failureType() == ReplyFailure.TIMEOUT) {
      return "no answer from " + address + " within " + timeoutMillis + " ms";
    }
    return "the plugin failed: " + e.getMessage();
  }
}
