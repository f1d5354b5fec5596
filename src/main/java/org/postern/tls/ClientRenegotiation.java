package org.postern.tls;

/**
 * Refuses client-initiated renegotiation on TLS 1.2 (testssl.sh: "VULNERABLE, potential DoS
 * threat", CVE-2011-1473: each renegotiation costs the server a private-key operation and the client
 * next to nothing). TLS 1.3 has no renegotiation. JSSE accepts it unless
 * {@code jdk.tls.rejectClientInitiatedRenegotiation} is true, and reads the property once, when its
 * first server-side handshake initialises: so it is set first thing in {@code main} for the daemon
 * and every command, by the TLS verticle for an embedded server, and by the build for the test
 * JVM (where a test peer may shake hands before any Postern server starts). An administrator's
 * explicit {@code -Djdk.tls.rejectClientInitiatedRenegotiation=false} is left alone.
 */
public final class ClientRenegotiation {
  static final String PROPERTY = "jdk.tls.rejectClientInitiatedRenegotiation";

  private ClientRenegotiation() {
  }

  /** Sets the property unless it was set explicitly; must run before the first server handshake. */
  public static void refuse() {
    if (System.getProperty(PROPERTY) == null) {
      System.setProperty(PROPERTY, "true");
    }
  }
}
