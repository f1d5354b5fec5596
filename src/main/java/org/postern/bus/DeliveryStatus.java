package org.postern.bus;

import java.util.Locale;

/** What a transport did with one recipient; the wire form is the lower-case name. */
public enum DeliveryStatus {
  /** Accepted by the destination: done. */
  DELIVERED,
  /** Not now: the queue retries it. */
  DEFERRED,
  /** Never: the queue bounces it. */
  FAILED;

  /** {@code delivered}, {@code deferred} or {@code failed}. */
  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The status of a wire name; {@link IllegalArgumentException} for an unknown one. */
  public static DeliveryStatus fromWire(String name) {
    return valueOf(name.toUpperCase(Locale.ROOT));
  }
}
