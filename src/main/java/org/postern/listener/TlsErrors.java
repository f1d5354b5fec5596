package org.postern.listener;

/** One short, log-safe line for a TLS failure: the root cause, never a dump of the client's bytes. */
final class TlsErrors {
  private static final int MAX = 160;

  private TlsErrors() {
  }

  static String describe(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String message = root.getMessage();
    String text = root.getClass().getSimpleName() + (message == null ? "" : ": " + message);
    text = text.replaceAll("[\\r\\n\\t]+", " ");
    return text.length() > MAX ? text.substring(0, MAX) + "..." : text;
  }
}
