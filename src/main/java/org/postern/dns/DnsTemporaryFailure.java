package org.postern.dns;

/**
 * A lookup got no definite answer: every attempt timed out, failed on the network, or was answered
 * with SERVFAIL (or another error code that is not NXDOMAIN). The name may well exist, so callers
 * defer rather than treat it as absent.
 */
public final class DnsTemporaryFailure extends RuntimeException {
  private final String name;

  public DnsTemporaryFailure(String name, String reason, Throwable cause) {
    super("DNS lookup of " + name + " failed temporarily: " + reason, cause);
    this.name = name;
  }

  /** The name that was looked up. */
  public String name() {
    return name;
  }
}
