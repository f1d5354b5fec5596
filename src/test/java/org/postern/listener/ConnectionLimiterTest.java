package org.postern.listener;

import org.junit.jupiter.api.Test;
import org.postern.listener.ConnectionLimiter.Admission;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The node's connection counts, and moving one from a load balancer's address to its client's. */
class ConnectionLimiterTest {

  @Test
  void aMovedConnectionCountsForTheClientAndNoLongerForTheProxy() {
    ConnectionLimiter limiter = new ConnectionLimiter();
    // The proxy's own limit is not applied (0): it carries many clients.
    for (int k = 0; k < 3; k++) {
      assertEquals(Admission.ACCEPTED, limiter.admit("127.0.0.3", 10, 0));
    }
    assertEquals(Admission.ACCEPTED, limiter.move("127.0.0.3", "192.0.2.1", 2));
    assertEquals(Admission.ACCEPTED, limiter.move("127.0.0.3", "192.0.2.1", 2));
    // The client's third connection is one too many; it stays counted under the proxy.
    assertEquals(Admission.TOO_MANY_FROM_HOST, limiter.move("127.0.0.3", "192.0.2.1", 2));
    // A direct connection from that client is over its limit too: the moved ones count.
    assertEquals(Admission.TOO_MANY_FROM_HOST, limiter.admit("192.0.2.1", 10, 2));
    limiter.release("192.0.2.1");
    assertEquals(Admission.ACCEPTED, limiter.admit("192.0.2.1", 10, 2));
    // The proxy holds one connection (the refused move): with a limit of 1 nothing more from it.
    assertEquals(Admission.TOO_MANY_FROM_HOST, limiter.admit("127.0.0.3", 10, 1));
    limiter.release("127.0.0.3");
    assertEquals(Admission.ACCEPTED, limiter.admit("127.0.0.3", 10, 1));
  }

  @Test
  void movingKeepsTheTotal() {
    ConnectionLimiter limiter = new ConnectionLimiter();
    assertEquals(Admission.ACCEPTED, limiter.admit("127.0.0.3", 2, 0));
    assertEquals(Admission.ACCEPTED, limiter.admit("127.0.0.3", 2, 0));
    assertEquals(Admission.ACCEPTED, limiter.move("127.0.0.3", "192.0.2.1", 5));
    assertEquals(Admission.TOO_MANY, limiter.admit("192.0.2.2", 2, 0));
    limiter.release("192.0.2.1");
    assertEquals(Admission.ACCEPTED, limiter.admit("192.0.2.2", 2, 0));
  }
}
