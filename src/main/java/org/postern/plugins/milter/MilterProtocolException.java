package org.postern.plugins.milter;

/** The milter broke the protocol (a malformed, unexpected or oversized reply): its default action applies. */
final class MilterProtocolException extends Exception {
  MilterProtocolException(String message) {
    super(message);
  }
}
